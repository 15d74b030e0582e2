// The audit log failing at the engine's JSON endpoints: the token endpoint and userinfo release the identity
// only once its identity_released record is written (src/login/claims.ts), so while it cannot be written they
// release nothing. The relying party is told to try again, RFC 6749 5.2 shaped (temporarily_unavailable,
// 503, Retry-After), as for a store outage (src/web/store-outage.ts): never a 500 server_error, which reads as
// a fault of the gateway's and gives no hint that the same request will work later.
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { exchangeCode, loginThroughMock, redeemCode, useGateway } from '../support/gateway.ts';

const gw = useGateway();

const failing = async <T>(work: () => Promise<T>): Promise<T> => {
  const audit = gw.audit as MemoryAuditLog;
  audit.failing = true;
  try {
    return await work();
  } finally {
    audit.failing = false;
  }
};

const expectRetryLater = async (res: Response) => {
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('5');
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.error).toBe('temporarily_unavailable');
  expect(body).not.toHaveProperty('access_token');
  expect(body).not.toHaveProperty('id_token');
};

test('token endpoint: temporarily_unavailable with 503, no token released, the failure logged as an error, the code redeemed when tried again', async () => {
  const login = await loginThroughMock(gw.rp);
  const before = gw.logLines.length;
  const redeem = () => redeemCode(gw.issuer, login, login.callback!);
  await expectRetryLater(await failing(redeem));
  const logged = gw.logLines.slice(before);
  expect(logged.some((l) => l.includes('"level":"error"') && l.includes('audit log unavailable'))).toBe(true);
  expect((gw.audit as MemoryAuditLog).events.some((e) => e.type === 'tokens_issued')).toBe(false);
  // the code is not lost: the refused request gave up its lease on it before it answered
  // (src/oidc/code-redemption.ts), so trying again at once redeems it
  const again = await redeem();
  expect(again.status).toBe(200);
  expect(await again.json()).toHaveProperty('id_token');
});

test('userinfo: temporarily_unavailable with 503 while the audit log fails, the claims once it works again', async () => {
  const login = await loginThroughMock(gw.rp);
  const tokens = await exchangeCode(gw.rp, login, login.callback!);
  const userinfo = () => fetch(`${gw.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  await expectRetryLater(await failing(userinfo));
  const res = await userinfo();
  expect(res.status).toBe(200);
  expect(((await res.json()) as { sub: string }).sub).toBe(tokens.claims()!.sub);
});

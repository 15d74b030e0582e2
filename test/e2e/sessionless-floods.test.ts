// Engine endpoints that need no session: anyone can send them as often as they like. A failed token request
// is a durable audit entry, a logout without a session cookie makes the engine store a session for its
// confirmation form and each userinfo answer to a bearer token is an audit record, so a flood of any would
// grow the audit log or the store at will. Sent here over
// real HTTP to a running gateway with small limits.
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { exchangeCode, loginThroughMock, RP_SECRET, useGateway } from '../support/gateway.ts';

const gw = useGateway({ settings: { limits: { token_errors: 3, authorization: 4 } } });

function failedTokenRequest(): Promise<Response> {
  return fetch(`${gw.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}-wrong`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'made-up', redirect_uri: 'x' }).toString(),
  });
}

const entries = () => (gw.audit as MemoryAuditLog).events;

test('a flood of failed token requests: each still refused, only the first few recorded, then one record of the limit', async () => {
  const before = entries().length;
  for (let i = 0; i < 12; i++) {
    const answer = await failedTokenRequest();
    expect(answer.status).toBe(401);
    expect(await answer.json()).toMatchObject({ error: 'invalid_client' });
  }
  // the records are written after the answers: wait for the record of the limit (the fourth)
  for (
    let i = 0;
    i < 100 &&
    !entries()
      .slice(before)
      .some((e) => e.type === 'error');
    i++
  )
    await new Promise((resolve) => setImmediate(resolve));
  const written = entries().slice(before);
  expect(written.filter((e) => e.type === 'tokens_issued_error')).toHaveLength(3);
  const limit = written.filter((e) => e.type === 'error');
  expect(limit).toHaveLength(1);
  expect(limit[0]!.detail).toMatchObject({ reason: 'rate_limited', bucket: 'token_error', limit: 3 });
  expect(written).toHaveLength(4);
  expect(gw.logLines.filter((l) => l.includes('rate limit reached') && l.includes('token_error'))).toHaveLength(1);
});

test('logout requests count with the authorization requests: beyond the limit, 429 and nothing stored', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const answer = await fetch(`${gw.issuer}/session/end`, { redirect: 'manual' });
    statuses.push(answer.status);
    if (answer.status === 429) expect(answer.headers.get('retry-after')).toBeTruthy();
    expect(answer.headers.getSetCookie().some((c) => /session=/.test(c))).toBe(answer.status !== 429);
  }
  expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
});

describe('userinfo', () => {
  const info = useGateway({ settings: { limits: { userinfo: 3 } } });

  test("a flood of userinfo requests with one login's access token: 429 with Retry-After beyond the limit, one record of it; another login's token still answers", async () => {
    const tokenOf = async () => {
      const login = await loginThroughMock(info.rp);
      return (await exchangeCode(info.rp, login, login.callback!)).access_token;
    };
    const userinfo = (token: string) => fetch(`${info.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
    const token = await tokenOf();
    const before = (info.audit as MemoryAuditLog).events.length;
    const answers: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await userinfo(token);
      answers.push(answer.status);
      const body = (await answer.json()) as Record<string, string>;
      if (answer.status === 200) expect(body.personal_code).toBe('010180-15097');
      else {
        expect(body).toMatchObject({
          error: 'invalid_request',
          error_description: expect.stringContaining('too often'),
        });
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(body.personal_code).toBeUndefined();
      }
    }
    expect(answers).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    const written = (info.audit as MemoryAuditLog).events.slice(before);
    expect(written.filter((e) => e.type === 'identity_released')).toHaveLength(3);
    expect(written.filter((e) => e.type === 'error').map((e) => e.detail)).toEqual([
      expect.objectContaining({ reason: 'rate_limited', bucket: 'userinfo', limit: 3 }),
    ]);
    expect(written).toHaveLength(4);
    expect(info.logLines.filter((l) => l.includes('rate limit reached') && l.includes('userinfo'))).toHaveLength(1);
    // counted per login: another login's token is not held back, and a made-up token leaves no counter
    expect((await userinfo(await tokenOf())).status).toBe(200);
    expect((await userinfo('made-up')).status).toBe(401);
  });
});

describe('records no login can be found for', () => {
  const anon = useGateway({ settings: { limits: { anonymous_records: 3, callback: 1000 } } });

  test("forged provider answers, from however many addresses (the limit is the deployment's): the first few recorded, then one record of the limit; a login is still recorded whole", async () => {
    const audit = anon.audit as MemoryAuditLog;
    const before = audit.events.length;
    for (let i = 0; i < 8; i++) {
      const answer = await fetch(`${anon.issuer}/broker/callback/mock-eid?state=made-up-${i}&code=x`);
      expect(answer.status).toBe(400);
    }
    const written = audit.events.slice(before);
    expect(written.filter((e) => e.type === 'provider_response_error')).toHaveLength(3);
    expect(written.filter((e) => e.type === 'error').map((e) => e.detail)).toEqual([
      expect.objectContaining({ reason: 'rate_limited', bucket: 'anonymous_records', limit: 3 }),
    ]);
    expect(written).toHaveLength(4);
    // a login's own records are never held back
    const login = await loginThroughMock(anon.rp);
    await exchangeCode(anon.rp, login, login.callback!);
    const uid = audit.events.find((e) => e.type === 'authorization_request' && e.clientId === 'rp')!.correlationId;
    const types = audit.events.filter((e) => e.correlationId === uid).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['authorization_request', 'provider_response', 'identity_released']));
  });
});

// The in-memory store's cap (store.max_bytes) under a flood of anonymous authorization requests, against a
// running gateway: once the cap is reached every request that needs a write gets the retry page (503 with
// Retry-After, never 500), /readyz is 503, and nothing grows further; once the flood's entries expire the
// gateway is ready and logs people in again by itself. As a Redis out of memory is answered
// (./refusing-writes.test.ts).
import { afterAll, expect, test } from '@jest/globals';
import { MemoryStore } from '../../src/store/memory.ts';
import { loginThroughMock, rpConfig, startGateway, type TestGateway } from '../support/gateway.ts';

const CAP = 64 * 1024;
/** the per-address limits would stop one address's flood first: here the cap must */
const limits = { authorization: 1_000_000, interaction: 1_000_000 };
const opened: TestGateway[] = [];
afterAll(async () => {
  for (const gw of opened) await gw.close();
});

const auth = (gw: TestGateway, i: number) =>
  `${gw.issuer}/auth?${new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: 'https://rp.example.test/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: `state-${String(i).padStart(10, '0')}` })}`;

/** Anonymous authorization requests until one is refused; every answer before it a redirect to a login page. */
async function flood(gw: TestGateway): Promise<Response> {
  for (let i = 0; i < 5000; i += 1) {
    const answer = await fetch(auth(gw, i), { redirect: 'manual' });
    if (answer.status !== 303) return answer;
    await answer.body?.cancel();
  }
  throw new Error('5000 anonymous logins fitted under the cap');
}

async function expectFull(gw: TestGateway): Promise<void> {
  const refused = await flood(gw);
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBe('5');
  expect(await refused.text()).toContain('<html');
  // a small write (the readiness probe's) finds no room either
  const ready = await fetch(`${gw.issuer}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ checks: { store: 'unreachable or refusing writes' } });
  expect((await fetch(auth(gw, -1), { redirect: 'manual' })).status).toBe(503);
  expect(gw.logLines.some((l) => l.includes(`memory store full`) && l.includes(`store.max_bytes ${CAP}`))).toBe(true);
  expect(gw.logLines.some((l) => /"level":"error"|request failed/.test(l))).toBe(false);
}

test('store.max_bytes from the configuration: a flood fills it, then the retry page and /readyz 503', async () => {
  const gw = await startGateway({ settings: { store: { type: 'memory', max_bytes: CAP }, limits } });
  opened.push(gw);
  await expectFull(gw);
});

test('once the entries expire the gateway is ready again and a whole login succeeds', async () => {
  let clock = 0;
  const store = new MemoryStore(() => Date.now() + clock, { maxBytes: CAP });
  const gw = await startGateway({ store, settings: { limits } });
  opened.push(gw);
  await expectFull(gw);
  // the flood's interactions and login states outlive ttl.interaction (900 s) at most
  clock += 901_000;
  expect((await fetch(`${gw.issuer}/readyz`)).status).toBe(200);
  const login = await loginThroughMock(await rpConfig(gw.issuer));
  expect(login.callback?.searchParams.get('code')).toBeTruthy();
});

// A Redis that answers but refuses writes: out of memory under `maxmemory-policy noeviction` (the policy the
// store wants: nothing it holds may be evicted), or with writes stopped after a failed save. A real
// redis-server, its limit set with CONFIG SET while the gateway runs. Every login step needs a write, so the
// gateway must say "not now" (the retry page, 503 with Retry-After; not ready at /readyz) and recover by
// itself once Redis takes writes again, never answer 500.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RedisStore } from '../../src/store/redis.ts';
import { loginThroughMock, rpConfig, startGateway, type TestGateway } from '../support/gateway.ts';
import { RedisFleet } from './redis-fleet.ts';
import { command, type RedisProcess } from './redis-processes.ts';

const fleet = new RedisFleet();
let redis: RedisProcess;
let store: RedisStore;
let gw: TestGateway;

beforeAll(async () => {
  redis = await fleet.server(['--maxmemory-policy', 'noeviction']);
  store = new RedisStore({ url: `redis://127.0.0.1:${redis.port}`, prefix: 'vpm:' });
  gw = await startGateway({ store });
});
afterAll(async () => {
  await gw?.close();
  await store?.close();
  await fleet.stop();
});

const AUTH = () =>
  `${gw.issuer}/auth?${new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: 'https://rp.example.test/cb', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'state-0123456789' })}`;

test('out of memory: the retry page with 503 and Retry-After, not ready; both recover once Redis has room', async () => {
  expect((await gw.gateway.readiness()).ready).toBe(true);
  expect(await command(redis.port, 'CONFIG', 'SET', 'maxmemory', '1')).toBe('+OK\r\n');

  const refused = await fetch(AUTH(), { redirect: 'manual' });
  expect(refused.status).toBe(503);
  expect(refused.headers.get('retry-after')).toBeTruthy();
  expect(await refused.text()).toContain('<html');
  const ready = await fetch(`${gw.issuer}/readyz`);
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({ checks: { store: 'unreachable or refusing writes' } });
  expect(gw.logLines.some((l) => l.includes('OOM'))).toBe(true);
  expect(gw.logLines.some((l) => /"level":"error"|request failed/.test(l))).toBe(false);

  expect(await command(redis.port, 'CONFIG', 'SET', 'maxmemory', '0')).toBe('+OK\r\n');
  expect((await fetch(`${gw.issuer}/readyz`)).status).toBe(200);
  const login = await loginThroughMock(await rpConfig(gw.issuer));
  expect(login.callback?.searchParams.get('code')).toBeTruthy();
});

// The broker pipeline on its own, with an adapter that fails in the ways real code fails.
import { Broker, BrokerError } from '../src/broker/broker.ts';
import { LoginStates } from '../src/broker/login-state.ts';
import type { ProviderAdapter } from '../src/broker/adapter.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { MemoryAuditLog } from '../src/audit/events.ts';
import { memoryLogger } from '../src/logger.ts';

function setup(callback: ProviderAdapter['callback']) {
  const adapter: ProviderAdapter = {
    id: 'p1',
    kind: 'test',
    maxLoa: 'high',
    start: async (ctx) => ({ action: { type: 'redirect', url: `https://idp.example/?state=${ctx.state}` }, connData: { n: 1 } }),
    stateFrom: (params) => params.state,
    callback,
  };
  const store = new MemoryStore();
  const audit = new MemoryAuditLog();
  const logger = memoryLogger();
  const broker = new Broker({ states: new LoginStates(store, 60), audit, logger, adapters: new Map([['p1', adapter]]), callbackUrl: () => 'https://gw.example/cb' });
  return { broker, audit, logger, store };
}

test('an unexpected adapter exception is refused as invalid_response without leaking its message', async () => {
  const { broker, audit, logger, store } = setup(async () => {
    JSON.parse('{"personal_code":"010180-15097"'); // a truncated upstream answer
    throw new Error('unreachable');
  });
  const { state } = await broker.begin({ uid: 'u1', clientId: 'c1', providerId: 'p1', locale: 'lv', correlationId: 'k1' });
  const err = (await broker.complete('p1', { state }, 'GET').catch((e: unknown) => e)) as BrokerError;
  expect(err).toBeInstanceOf(BrokerError);
  expect(err.code).toBe('invalid_response');
  expect(err.detail).toBe('adapter failure: SyntaxError');
  expect(logger.lines.join('\n')).not.toContain('010180');
  expect(JSON.stringify(audit.events)).not.toContain('010180');
  await store.close();
});

test('a verified identity below the requested level is refused as loa_too_low', async () => {
  const { broker, store } = setup(async () => ({ identity: { givenName: 'A', familyName: 'B', personalCode: '010180-15097', loa: 'low', amr: ['pwd'] } }));
  const { state } = await broker.begin({ uid: 'u2', clientId: 'c1', providerId: 'p1', acr: 'substantial', locale: 'en', correlationId: 'k2' });
  await expect(broker.complete('p1', { state }, 'GET')).rejects.toMatchObject({ code: 'loa_too_low', login: { uid: 'u2' } });
  await store.close();
});

test('a callback on another provider\'s route cannot use the login', async () => {
  const { broker, store } = setup(async () => {
    throw new Error('not reached');
  });
  await expect(broker.complete('nope', { state: 'x' }, 'GET')).rejects.toMatchObject({ code: 'unknown_provider' });
  await expect(broker.begin({ uid: 'u3', clientId: 'c1', providerId: 'nope', locale: 'en', correlationId: 'k3' })).rejects.toMatchObject({ code: 'unknown_provider' });
  await store.close();
});

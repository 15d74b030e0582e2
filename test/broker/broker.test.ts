// The broker pipeline on its own, with an adapter that fails in the ways real code fails.
import { BrokerError } from '../../src/login/broker-error.ts';
import { z } from 'zod';
import type { ProviderAdapter } from '../../src/broker/adapter.ts';
import { brokerFor, TEST_BROWSER } from '../support/broker.ts';

function testAdapter(id: string, callback: ProviderAdapter['callback']): ProviderAdapter {
  return {
    id,
    kind: 'test',
    maxLoa: 'high',
    connDataSchema: z.object({ n: z.number() }),
    start: async (ctx) => ({
      action: { type: 'redirect', url: `https://idp.example/?state=${ctx.state}` },
      connData: { n: 1 },
    }),
    stateFrom: (params) => params.state,
    callback,
  };
}

function setup(callback: ProviderAdapter['callback'], others: ProviderAdapter[] = []) {
  const { broker, audit, logger, store } = brokerFor([testAdapter('p1', callback), ...others], {
    ttl: 60,
    callbackUrl: (id) => `https://gw.example/cb/${id}`,
  });
  return { broker, audit, logger, store };
}

/** What an honest provider that authenticated the person just now answers. */
const person = () => ({
  givenName: 'Jānis',
  familyName: 'Bērziņš',
  personalCode: '010180-15097',
  loa: 'high' as const,
  amr: ['smart_id'],
  authTime: Math.floor(Date.now() / 1000),
});

test('an unexpected adapter exception is refused as invalid_response without leaking its message', async () => {
  const { broker, audit, logger, store } = setup(async () => {
    JSON.parse('{"personal_code":"010180-15097"'); // a truncated upstream answer
    throw new Error('unreachable');
  });
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u1',
    clientId: 'c1',
    providerId: 'p1',
    locale: 'lv',
    correlationId: 'k1',
  });
  const err = (await broker.complete('p1', { state }, 'GET', TEST_BROWSER).catch((e: unknown) => e)) as BrokerError;
  expect(err).toBeInstanceOf(BrokerError);
  expect(err.code).toBe('invalid_response');
  expect(err.detail).toBe('adapter failure: SyntaxError');
  expect(logger.lines.join('\n')).not.toContain('010180');
  expect(JSON.stringify(audit.events)).not.toContain('010180');
  await store.close();
});

test('a verified identity below the requested level is refused as loa_too_low', async () => {
  const { broker, store } = setup(async () => ({
    identity: {
      givenName: 'A',
      familyName: 'B',
      personalCode: '010180-15097',
      loa: 'low',
      amr: ['pwd'],
      authTime: Math.floor(Date.now() / 1000),
    },
  }));
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u2',
    clientId: 'c1',
    providerId: 'p1',
    acr: 'substantial',
    locale: 'en',
    correlationId: 'k2',
  });
  await expect(broker.complete('p1', { state }, 'GET', TEST_BROWSER)).rejects.toMatchObject({
    code: 'loa_too_low',
    login: { uid: 'u2' },
  });
  await store.close();
});

test("a callback on another provider's route cannot use the login", async () => {
  const { broker, store } = setup(async () => {
    throw new Error('not reached');
  });
  await expect(broker.complete('nope', { state: 'x' }, 'GET', TEST_BROWSER)).rejects.toMatchObject({
    code: 'unknown_provider',
  });
  await expect(
    broker.begin({
      browser: TEST_BROWSER,
      uid: 'u3',
      clientId: 'c1',
      providerId: 'nope',
      locale: 'en',
      correlationId: 'k3',
    }),
  ).rejects.toMatchObject({ code: 'unknown_provider' });
  await store.close();
});

test("a login started for one provider and completed on another provider's callback route is refused", async () => {
  // p2 would verify anything it is handed: only the broker's binding of the login to p1 stands in the way
  const p2 = testAdapter('p2', async () => ({ identity: person() }));
  const { broker, audit, store } = setup(async () => ({ identity: person() }), [p2]);
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u4',
    clientId: 'c1',
    providerId: 'p1',
    locale: 'en',
    correlationId: 'k4',
  });
  const err = (await broker.complete('p2', { state }, 'GET', TEST_BROWSER).catch((e: unknown) => e)) as BrokerError;
  expect(err).toBeInstanceOf(BrokerError);
  expect(err).toMatchObject({
    code: 'invalid_response',
    detail: 'state belongs to another provider',
    login: { uid: 'u4', providerId: 'p1' },
  });
  expect(audit.events.filter((e) => e.correlationId === 'k4').map((e) => e.type)).toEqual([
    'provider_request',
    'provider_response_error',
  ]);
  // the login is spent: its own provider cannot complete it afterwards either
  await expect(broker.complete('p1', { state }, 'GET', TEST_BROWSER)).rejects.toMatchObject({ code: 'unknown_state' });
  await store.close();
});

test("the adapter gets the login's start time, and the identity keeps the provider's authentication time", async () => {
  const seen: number[] = [];
  const authTime = Math.floor(Date.now() / 1000) - 7; // the provider's clock, a little behind ours
  const { broker, store } = setup(async (ctx) => {
    seen.push(ctx.loginStartedAt);
    return { identity: { ...person(), authTime } };
  });
  const before = Date.now();
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u5',
    clientId: 'c1',
    providerId: 'p1',
    locale: 'en',
    correlationId: 'k5',
  });
  const after = Date.now();
  const { login, identity } = await broker.complete('p1', { state }, 'GET', TEST_BROWSER);
  expect(seen).toEqual([login.createdAt]);
  expect(login.createdAt).toBeGreaterThanOrEqual(before);
  expect(login.createdAt).toBeLessThanOrEqual(after);
  expect(identity.authTime).toBe(authTime);
  await store.close();
});

test('a login state without a browser digest (begun before the binding) is refused cleanly, never a crash', async () => {
  const { broker, audit, store } = setup(async () => ({ identity: person() }));
  const { state } = await broker.begin({
    browser: TEST_BROWSER,
    uid: 'u-old',
    clientId: 'c1',
    providerId: 'p1',
    locale: 'lv',
    correlationId: 'k-old',
  });
  // as an earlier version wrote it: no `browser`
  const { browser: _, ...old } = JSON.parse((await store.get(`login:${state}`))!) as Record<string, unknown>;
  await store.set(`login:${state}`, JSON.stringify(old), 60);
  const err = await broker.complete('p1', { state }, 'GET', TEST_BROWSER).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(BrokerError);
  expect(err).toMatchObject({ code: 'other_browser', login: { uid: 'u-old' } });
  expect(audit.events.filter((e) => e.correlationId === 'k-old').map((e) => e.type)).toEqual([
    'provider_request',
    'provider_response_error',
  ]);
  await store.close();
});

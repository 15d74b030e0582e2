// A bank certificate that expires while the gateway runs. Production refuses to start with an expired
// one; a gateway started before the expiry must not go on trusting the bank's key after it either.
import { X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { ProviderError, runCallback } from '../../src/broker/adapter.ts';
import { newState } from '../../src/login/login-state.ts';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { setClock } from '../../test/support/clock.ts';
import { type BanklinkAdapter, factory } from './index.ts';
import { CALLBACK_URL, createHarness, type BanklinkHarness } from './test-harness.ts';

let h: BanklinkHarness;
let production: BanklinkAdapter;
let notAfter: number;

beforeAll(async () => {
  h = await createHarness();
  // as production runs it: https towards the bank (the test bank itself answers on loopback http)
  const config = { ...h.config, url: 'https://bank.example.test/banklink' };
  production = (await factory.create(config, { ...h.deps, production: true })) as BanklinkAdapter;
  notAfter = Date.parse(new X509Certificate(h.bank.certificatePem).validTo);
});
afterEach(() => jest.useRealTimers());
afterAll(() => h.teardown());

async function begin() {
  const state = newState();
  const loginStartedAt = Date.now();
  const started = await production.start({
    browser: TEST_BROWSER_DIGEST,
    state,
    callbackUrl: CALLBACK_URL,
    locale: 'lv',
    correlationId: `corr-${state}`,
  });
  if (started.action.type !== 'form') throw new Error('form expected');
  // the browser posts the form to the bank, wherever it is
  return { started, loginStartedAt, action: { ...started.action, url: h.bank.url } };
}

async function answer(login: Awaited<ReturnType<typeof begin>>) {
  const cb = await h.login(login.action, 'success');
  return runCallback(production, {
    params: cb.params,
    method: cb.method,
    connData: login.started.connData,
    callbackUrl: CALLBACK_URL,
    correlationId: 'c',
    loginStartedAt: login.loginStartedAt,
    authenticatedNotBefore: undefined,
  });
}

test('before the bank certificate expires, its answers are accepted', async () => {
  setClock(notAfter - 120_000);
  expect((await answer(await begin())).identity.personalCode).toBe('010180-15097');
});

test('an answer signed after the bank certificate expired is refused, and no new login is sent there', async () => {
  setClock(notAfter - 120_000);
  const login = await begin();
  setClock(notAfter + 60_000);
  const err = await answer(login).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  expect(err).toMatchObject({ code: 'temporarily_unavailable' });
  expect((err as ProviderError).detail).toMatch(/bank certificate expired on /);
  await expect(begin()).rejects.toMatchObject({ code: 'temporarily_unavailable' });
});

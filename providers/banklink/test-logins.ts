// Banklink logins as the adapter tests run them: started at the adapter in front of the test bank, answered
// by the bank (as the harness's browser drives it), and completed at the adapter's callback.
import { ProviderError, runCallback, type StartResult } from '../../src/broker/adapter.ts';
import { newState } from '../../src/login/login-state.ts';
import type { Callback } from '../../test/support/adapter-conformance.ts';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { CALLBACK_URL, createHarness, type BanklinkHarness, type DriveOptions } from './test-harness.ts';

/**
 * In the current describe block: the default harness (009 / SHA-512 / 4012), started before its tests and
 * torn down after them. The returned object is filled in by beforeAll.
 */
export function useHarness(): BanklinkHarness {
  const h = {} as BanklinkHarness;
  beforeAll(async () => {
    Object.assign(h, await createHarness());
  });
  afterAll(() => h.teardown());
  return h;
}

export type Started = StartResult & { state: string; loginStartedAt: number };

/** A login begun at the harness's adapter under a new state: its form to the bank and what the callback needs. */
export async function startLogin(h: BanklinkHarness): Promise<Started> {
  const state = newState();
  const loginStartedAt = Date.now();
  const started = await h.adapter.start({
    browser: TEST_BROWSER_DIGEST,
    state,
    callbackUrl: CALLBACK_URL,
    locale: 'lv',
    correlationId: `corr-${state}`,
  });
  return { ...started, state, loginStartedAt };
}

/** The bank's answer `cb` to the login `started`, at the adapter's callback: the identity, or it throws. */
export async function callback(h: BanklinkHarness, started: Started, cb: Callback) {
  return runCallback(h.adapter, {
    params: cb.params,
    method: cb.method,
    connData: started.connData,
    callbackUrl: CALLBACK_URL,
    correlationId: 'c',
    loginStartedAt: started.loginStartedAt,
    authenticatedNotBefore: undefined,
  });
}

/** The ProviderError the callback refuses `cb` with (fails if it accepts it). */
export async function refusal(h: BanklinkHarness, started: Started, cb: Callback): Promise<ProviderError> {
  const err = await callback(h, started, cb).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

/** A login started at `h` and answered by its bank (a chosen user, bank behaviour or code; or a cancel). */
export async function startAndAnswer(
  h: BanklinkHarness,
  options: DriveOptions = {},
  outcome: 'success' | 'cancel' = 'success',
) {
  const started = await startLogin(h);
  return { started, cb: await h.login(started.action, outcome, options) };
}

// ONE conformance suite for every provider adapter. Each adapter's test
// file calls adapterConformance() with a harness that plays the user's browser against a real upstream
// (a test bank, a test OpenID provider, a test SAML IdP) started by the test.
import type { Broker } from '../../src/login/broker.ts';
import { BrokerError } from '../../src/login/broker-error.ts';
import type { CallbackContext, ProviderAdapter, StartAction } from '../../src/broker/adapter.ts';
import type { MemoryStore } from '../../src/store/memory.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { brokerFor, TEST_BROWSER } from './broker.ts';

export interface Callback {
  method: 'GET' | 'POST';
  params: Record<string, string>;
}

export interface AdapterHarness {
  adapter: ProviderAdapter;
  /** absolute callback URL the broker hands the adapter (the upstream sends the browser there) */
  callbackUrl: string;
  /** Follow the start action as a browser would, authenticate as the harness's valid test user (or
   * cancel at the provider) and return what the browser would deliver to the callback. */
  drive(action: StartAction, outcome: 'success' | 'cancel'): Promise<Callback>;
  /** The same callback, claiming to belong to another broker state. */
  withState(callback: Callback, state: string): Callback;
  /** semantics identifier of the harness's valid test user */
  expectedSubject: string;
  teardown(): Promise<void>;
}

export function adapterConformance(name: string, setup: () => Promise<AdapterHarness>): void {
  describe(`adapter conformance: ${name}`, () => {
    let h: AdapterHarness;
    let broker: Broker;
    let audit: MemoryAuditLog;
    let store: MemoryStore;

    beforeAll(async () => {
      h = await setup();
    });
    afterAll(async () => {
      await h.teardown();
    });
    beforeEach(() => {
      ({ broker, store, audit } = brokerFor(h.adapter, { callbackUrl: h.callbackUrl }));
    });
    afterEach(async () => {
      await store.close();
    });

    const begin = (uid: string, on = broker) =>
      on.begin({
        browser: TEST_BROWSER,
        uid,
        clientId: 'conformance',
        providerId: h.adapter.id,
        locale: 'en',
        correlationId: `corr-${uid}`,
      });

    test('state round trip: the callback carries the broker state and yields the verified identity', async () => {
      const { state, action } = await begin('uid-1');
      const cb = await h.drive(action, 'success');
      expect(h.adapter.stateFrom(cb.params)).toBe(state);
      const { login, identity } = await broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER);
      expect(login.uid).toBe('uid-1');
      expect(identity.subject).toBe(h.expectedSubject);
      expect(identity.idp).toBe(h.adapter.id);
      expect(identity.givenName).not.toBe('');
      expect(identity.familyName).not.toBe('');
      expect(audit.types('corr-uid-1')).toEqual(['provider_request', 'provider_response', 'verification']);
    });

    test("the service's max_age bounds the answer: one brought back after it ran out is refused", async () => {
      // the broker's bound an hour after the login started, as when the answer is brought back that long after
      // the service's max_age ran out (OpenID Connect Core 3.1.2.1): an adapter that checks its provider's
      // authentication time against the login's start alone would let it through
      const late = new Proxy(h.adapter, {
        get(adapter, name) {
          if (name === 'callback')
            return (ctx: CallbackContext) =>
              adapter.callback({ ...ctx, authenticatedNotBefore: ctx.loginStartedAt + 3_600_000 });
          const value: unknown = Reflect.get(adapter, name, adapter);
          return typeof value === 'function' ? value.bind(adapter) : value;
        },
      });
      const tardy = brokerFor(late, { callbackUrl: h.callbackUrl, store, audit });
      const uid = 'uid-max-age';
      const { action } = await begin(uid, tardy.broker);
      const cb = await h.drive(action, 'success');
      const err = await tardy.broker.complete(late.id, cb.params, cb.method, TEST_BROWSER).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid_response', login: { uid }, detail: expect.stringMatching(/max_age/) });
    });

    test('replay refused: the same callback a second time is rejected, and never verified again', async () => {
      const { action } = await begin('uid-2');
      const cb = await h.drive(action, 'success');
      await broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER);
      // by another browser: a replay; by the browser that brought it: a resubmission, which the login flow
      // leads on to the login's resume (src/login/resubmission.ts)
      const replay = broker.complete(h.adapter.id, cb.params, cb.method, 'another-browser-binding-value-0123456789ab');
      await expect(replay).rejects.toBeInstanceOf(BrokerError);
      await expect(replay).rejects.toMatchObject({ code: 'unknown_state' });
      const again = broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER);
      await expect(again).rejects.toMatchObject({ code: 'resubmitted' });
    });

    test('mismatched state refused: an answer for one login cannot complete another', async () => {
      const first = await begin('uid-3');
      const second = await begin('uid-4');
      const cb = await h.drive(first.action, 'success');
      const moved = h.withState(cb, second.state);
      const err = await broker
        .complete(h.adapter.id, moved.params, moved.method, TEST_BROWSER)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerError);
      expect((err as BrokerError).code).toBe('invalid_response');
      expect((err as BrokerError).login?.uid).toBe('uid-4');
    });

    test('upstream errors mapped: a user who cancels at the provider yields user_cancel for the right login', async () => {
      const { action } = await begin('uid-5');
      const cb = await h.drive(action, 'cancel');
      const err = await broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerError);
      expect((err as BrokerError).code).toBe('user_cancel');
      expect((err as BrokerError).login?.uid).toBe('uid-5');
    });

    test('a callback without or with a forged state is refused without touching any login', async () => {
      await expect(broker.complete(h.adapter.id, {}, 'POST', TEST_BROWSER)).rejects.toMatchObject({
        code: 'unknown_state',
      });
      const { action } = await begin('uid-6');
      const cb = await h.drive(action, 'success');
      const forged = h.withState(cb, 'AAAAAAAAAAAAAAAAAAAAAAAAAAA');
      await expect(broker.complete(h.adapter.id, forged.params, forged.method, TEST_BROWSER)).rejects.toMatchObject({
        code: 'unknown_state',
      });
      // the genuine login is still there and completes
      await expect(broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER)).resolves.toMatchObject({
        login: { uid: 'uid-6' },
      });
    });

    test.each([
      ['another browser', 'another-browser-binding-value-0123456789ab'],
      ['a browser without the binding cookie', undefined],
    ])(
      'a genuine answer brought by %s ends the login unread, audited; the right browser cannot take it up again',
      async (_, other) => {
        const uid = `uid-elsewhere-${other ? 'other' : 'none'}`;
        const { action } = await begin(uid);
        const cb = await h.drive(action, 'success');
        const err = await broker.complete(h.adapter.id, cb.params, cb.method, other).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BrokerError);
        expect(err).toMatchObject({ code: 'other_browser', login: { uid } });
        const mine = audit.events.filter((e) => e.correlationId === (err as BrokerError).login?.correlationId);
        expect(mine.map((e) => e.type)).toEqual(['provider_request', 'provider_response_error']);
        expect(mine[1]!.detail).toMatchObject({ reason: expect.stringMatching(/browser/) });
        await expect(broker.complete(h.adapter.id, cb.params, cb.method, TEST_BROWSER)).rejects.toMatchObject({
          code: 'unknown_state',
          spent: { uid },
        });
      },
    );
  });
}

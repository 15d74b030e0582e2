// The RP API as the adapter reaches it: pinned TLS (a leaf that is not pinned, both leaves of SK's
// certificate rotation), an answer dripped past the call limit, one that never ends, the API under maintenance, and RP API v2
// for relying parties still on it.
import { BrokerError } from '../../src/login/broker-error.ts';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import { readCertificates } from './adapter.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { DEMO_ACCOUNTS, type TestAccount } from './test-rp-api/accounts.ts';
import { type Harness, startHarness, withHarness } from './test-harness.ts';
import { codeOf, loginAs } from './test-logins.ts';

let ca: TestCa;
beforeAll(async () => {
  ca = await TestCa.create();
});

/** SK's demo account OK TESTNUMBER: confirms every login. */
const OK = { country: 'LV', code: '030303-10004' };

/** A person whose answers the test RP API signs wrongly (a new-format Latvian code, no check digit). */
const forged: TestAccount = {
  semanticsIdentifier: 'PNOLV-320017-10001',
  givenName: 'Ieva',
  surname: 'Liepa',
  behaviour: 'ok',
  misbehave: 'bad_signature',
};

/** A person whose session the test RP API answers a byte a second, for ever. */
const dripping: TestAccount = { ...forged, semanticsIdentifier: 'PNOLV-320017-10002', misbehave: 'drip_poll' };

/** A person whose session the test RP API answers with whitespace as fast as it can, for ever. */
const flooding: TestAccount = { ...forged, semanticsIdentifier: 'PNOLV-320017-10003', misbehave: 'flood_poll' };

describe('Smart-ID transport', () => {
  test('a pin mismatch ends the login before anything reaches the RP API: technical error page, temporarily_unavailable', async () => {
    await withHarness({ ca, pin: 'wrong' }, async (h) => {
      const { arrival, outcome } = await loginAs(h, OK, { locale: 'lv' });
      expect('callback' in arrival && arrival.endPage).toContain('Radās tehniska kļūda');
      expect(outcome).toBeInstanceOf(BrokerError);
      const err = outcome as BrokerError;
      expect([err.code, OAUTH_ERRORS[err.code]!.error]).toEqual(['temporarily_unavailable', 'temporarily_unavailable']);
      expect(err.detail).toContain('ERR_VPM_TLS_PIN_MISMATCH');
      expect(h.rp.api.sessions.size).toBe(0);
    });
  });

  test("at SK's certificate rotation both pinned leaves are accepted: the old one pinned first, the served one second", async () => {
    await withHarness({ ca, pin: 'rotation' }, async (h) => {
      expect(readCertificates(h.adapter.config.pinned_certificates[0]!)).toHaveLength(2);
      const { outcome } = await loginAs(h, OK);
      expect(outcome).toMatchObject({ identity: { subject: 'PNOLV-030303-10004' } });
    });
  });

  // long_poll_ms 1000: a byte a second never trips the 6 s read timeout, only the call's own deadline; an
  // endless flood is cut off by the answer's size limit long before that
  test.each([
    ['drips its answer: the call is cut off at its deadline', dripping, 'TimeoutError'],
    ['answers without end: reading stops at the size limit', flooding, 'BodyTooLargeError'],
  ])(
    'an RP API that %s, technical page, temporarily_unavailable',
    async (_, account, reason) => {
      await withHarness({ ca, accounts: [account] }, async (h) => {
        const { arrival, outcome } = await loginAs(h, codeOf(account));
        expect('callback' in arrival && arrival.endPage).toContain('technical error');
        expect(outcome).toBeInstanceOf(BrokerError);
        expect(outcome).toMatchObject({
          code: 'temporarily_unavailable',
          userInformed: true,
          detail: expect.stringContaining(`RP API unreachable: ${reason}`),
        });
      });
    },
    60_000,
  );

  test('maintenance (HTTP 580): its own page, temporarily_unavailable', async () => {
    await withHarness({ ca, maintenance: true }, async (h) => {
      const { arrival, outcome } = await loginAs(h, OK);
      expect('callback' in arrival && arrival.endPage).toContain('under maintenance');
      expect(outcome).toBeInstanceOf(BrokerError);
      expect(outcome).toMatchObject({ code: 'temporarily_unavailable', userInformed: true });
    });
  });
});

describe('Smart-ID RP API v2 (relying parties still on it)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ca, accounts: [...DEMO_ACCOUNTS, forged], v2: true });
  });
  afterAll(() => h.close());

  test('a v2 login: the SHA-512 hash signed with PKCS#1 v1.5 verifies against the kept random bytes', async () => {
    const { outcome } = await loginAs(h, OK);
    expect(outcome).toMatchObject({ identity: { subject: 'PNOLV-030303-10004', loa: 'high' } });
    const session = [...h.rp.api.sessions.values()].at(-1)!;
    expect(session.v2Hash).toBeDefined();
    expect(session.rpChallenge).toBe('');
  });

  test('v2: a bad signature is refused, a refusal is user_cancel', async () => {
    const bad = await loginAs(h, codeOf(forged));
    expect(bad.outcome).toMatchObject({
      code: 'invalid_response',
      detail: expect.stringContaining('signature does not verify'),
    });
    expect((await loginAs(h, { country: 'LV', code: '030403-10016' })).outcome).toMatchObject({ code: 'user_cancel' });
  });
});

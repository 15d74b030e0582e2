// The Smart-ID adapter against the test RP API over pinned TLS: the conformance run every adapter passes,
// every end result (page and OAuth error), and every certificate or signature defect refused. The RP API's
// transport and v2 are in transport.test.ts, the app on the same phone in web2app.test.ts.
import { randomBytes } from 'node:crypto';
import { BrokerError } from '../../src/login/broker-error.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import { adapterConformance } from '../../test/support/adapter-conformance.ts';
import { verificationCode } from './protocol.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { DEMO_ACCOUNTS, type TestAccount } from './test-rp-api/accounts.ts';
import type { PhoneAction } from './test-rp-api/sessions.ts';
import { type Harness, startHarness, withHarness } from './test-harness.ts';
import { asTestBrowser, walk } from './test-user.ts';
import { beginLogin, codeOf, loginAs } from './test-logins.ts';

let ca: TestCa;
beforeAll(async () => {
  ca = await TestCa.create();
});

const OK = { country: 'LV', code: '030303-10004' };

// the adapter keeps its logins in a real Redis here (its own key prefix; keys expire with the login)
adapterConformance('smartid', async () => {
  const store = new RedisStore({
    url: process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `vpm-test-smartid-${randomBytes(6).toString('hex')}:`,
  });
  const h = await startHarness({ ca: ca ?? (await TestCa.create()), store });
  return {
    adapter: h.adapter,
    callbackUrl: h.callbackUrl,
    async drive(action, outcome) {
      const arrival = await walk(h, action, outcome === 'success' ? OK : 'cancel');
      if (!('callback' in arrival)) throw new Error(`stopped on a page: ${arrival.page.status}`);
      return { method: 'GET', params: arrival.callback };
    },
    withState: (cb, state) => ({ ...cb, params: { ...cb.params, state } }),
    expectedSubject: 'PNOLV-030303-10004',
    teardown: async () => {
      await h.close();
      await store.close();
    },
  };
});

/** A person with a new-format Latvian code (no check digit), the test peer answering as `extra` says. */
let next = 0;
function person(extra: Partial<TestAccount>): TestAccount {
  next += 1;
  return {
    semanticsIdentifier: `PNOLV-32${String(next).padStart(4, '0')}-10001`,
    givenName: 'Ieva',
    surname: 'Liepa',
    behaviour: 'ok',
    ...extra,
  };
}

const refused = person({ behaviour: 'refuse' });
const phoneHolder = person({ behaviour: 'phone' });
const advanced = person({ level: 'ADVANCED', certificate: { level: 'ADVANCED' } });
const defects: Record<string, { account: TestAccount; detail: RegExp }> = {
  'wrong CA': { account: person({ certificate: { foreignIssuer: true } }), detail: /not issued by a configured SK CA/ },
  expired: { account: person({ certificate: { expired: true } }), detail: /certificate has expired/ },
  'wrong policy OID': {
    account: person({ certificate: { policies: ['1.3.6.1.4.1.10015.3.1'] } }),
    detail: /neither the qualified nor the non-qualified/,
  },
  'ADVANCED certificate where QUALIFIED is required': {
    account: person({ certificate: { level: 'ADVANCED' } }),
    detail: /level ADVANCED is below the required QUALIFIED/,
  },
  'no Smart-ID or clientAuth EKU': { account: person({ certificate: { eku: 'none' } }), detail: /extendedKeyUsage/ },
  'keyUsage without digitalSignature': {
    account: person({ certificate: { noDigitalSignature: true } }),
    detail: /keyUsage lacks digitalSignature/,
  },
  "another person's certificate": {
    account: person({
      certificate: { subject: { semanticsIdentifier: 'PNOLV-030303-10004', givenName: 'OK', surname: 'TESTNUMBER' } },
    }),
    detail: /belongs to another person than the one asked/,
  },
  'bad signature': { account: person({ misbehave: 'bad_signature' }), detail: /signature does not verify/ },
  'swapped user challenge': {
    account: person({ misbehave: 'swap_user_challenge' }),
    detail: /signature does not verify/,
  },
  'live scheme name signed for the demo environment': {
    account: person({ misbehave: 'other_scheme' }),
    detail: /signature does not verify/,
  },
  'another hash than asked': { account: person({ misbehave: 'other_hash' }), detail: /another hash/ },
};
const clientAuth = person({ certificate: { eku: 'client-auth' } });

describe('Smart-ID end results and defects', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      ca,
      accounts: [
        ...DEMO_ACCOUNTS,
        refused,
        phoneHolder,
        advanced,
        clientAuth,
        ...Object.values(defects).map((d) => d.account),
      ],
      entry: { service_names: { 'vid-edeklaracijas': 'VID EDS: deklarāciju iesniegšana' } },
    });
  });
  afterAll(() => h.close());

  /** A login for the service named in the entry's service_names. */
  const login = (who: { country: string; code: string } | 'cancel', phone?: PhoneAction) =>
    loginAs(h, who, { clientId: 'vid-edeklaracijas', ...(phone ? { phone } : {}) });

  async function refusal(who: { country: string; code: string } | 'cancel', phone?: PhoneAction) {
    const { arrival, outcome } = await login(who, phone);
    expect(outcome).toBeInstanceOf(BrokerError);
    const err = outcome as BrokerError;
    return { err, oauth: OAUTH_ERRORS[err.code]!.error, endPage: 'callback' in arrival ? arrival.endPage : undefined };
  }

  test('a confirmed login yields the person from the certificate, at level high, the service named in the app', async () => {
    const { outcome } = await login(OK);
    expect(outcome).toMatchObject({
      identity: {
        subject: 'PNOLV-030303-10004',
        givenName: 'OK',
        familyName: 'TESTNUMBER',
        loa: 'high',
        amr: ['smart_id'],
      },
    });
    const session = [...h.rp.api.sessions.values()].at(-1)!;
    expect(Buffer.from(session.interactions, 'base64').toString()).toContain('VID EDS: deklarāciju iesniegšana');
    expect(session.relyingPartyName).toBe('DEMO');
  });

  test('a new-format Latvian code (no birth date) and a Lithuanian one', async () => {
    const lv = await login({ country: 'LV', code: '320000-10003' });
    expect(lv.outcome).toMatchObject({ identity: { subject: 'PNOLV-320000-10003', personalCode: '320000-10003' } });
    expect((lv.outcome as { identity: { birthdate?: string } }).identity.birthdate).toBeUndefined();
    const lt = await login({ country: 'LT', code: '30303039914' });
    expect(lt.outcome).toMatchObject({ identity: { subject: 'PNOLT-30303039914', country: 'LT' } });
  });

  test('the phone confirms a waiting session through the control endpoint', async () => {
    const { outcome } = await login(codeOf(phoneHolder), 'confirm');
    expect(outcome).toMatchObject({ identity: { subject: phoneHolder.semanticsIdentifier } });
  });

  test('refused in the app: user_cancel, after a page saying so', async () => {
    const { err, oauth, endPage } = await refusal(codeOf(refused));
    expect([err.code, oauth, err.userInformed]).toEqual(['user_cancel', 'user_cancel', true]);
    expect(endPage).toContain('You refused the login in the Smart-ID app.');
  });

  const ends: [string, { country: string; code: string }, PhoneAction | undefined, string, string][] = [
    ['timeout', { country: 'LV', code: '030403-10083' }, undefined, 'access_denied', 'was not confirmed in time'],
    [
      'wrong code chosen',
      { country: 'LV', code: '030403-10075' },
      undefined,
      'access_denied',
      'wrong verification code',
    ],
    ['account unusable', codeOf(phoneHolder), 'unusable', 'access_denied', 'cannot be used right now'],
    ['app too old for the interaction', codeOf(phoneHolder), 'not_supported', 'access_denied', 'update the app'],
    [
      'no account (HTTP 404)',
      { country: 'EE', code: '60001019906' },
      undefined,
      'access_denied',
      'no suitable Smart-ID account',
    ],
    [
      'QUALIFIED asked of an ADVANCED account (HTTP 471)',
      codeOf(advanced),
      undefined,
      'access_denied',
      'no suitable Smart-ID account',
    ],
  ];
  test.each(ends)('%s: the right page and OAuth error', async (_name, who, phone, oauthError, text) => {
    const { oauth, endPage, err } = await refusal(who, phone);
    expect(oauth).toBe(oauthError);
    expect(err.userInformed).toBe(true);
    expect(endPage).toContain(text);
  });

  test('the waiting page shows the code in the language chosen on it (Russian too), and works without scripts', async () => {
    const { handle } = await beginLogin(h, { locale: 'lv' });
    const base = `${h.origin}/providers/smartid`;
    const posted = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: asTestBrowser(base),
      body: new URLSearchParams({ h: handle, ...codeOf(phoneHolder) }),
    });
    expect(posted.headers.get('location')).toBe(`/providers/smartid/wait?h=${handle}`);
    const waiting = await fetch(`${base}/wait?h=${handle}&lang=ru`, { headers: asTestBrowser(base) });
    const body = await waiting.text();
    expect(waiting.headers.get('cache-control')).toBe('no-store');
    expect(body).toContain('Подтвердите в приложении Smart-ID');
    // in the head, where HTML allows it
    expect(body.slice(0, body.indexOf('</head>'))).toContain('<meta http-equiv="refresh" content="3">');
    const session = h.rp.api.running(phoneHolder.semanticsIdentifier)[0]!;
    expect(body).toContain(`>${verificationCode(Buffer.from(session.rpChallenge, 'base64'))}</p>`);
    await h.phone(phoneHolder.semanticsIdentifier, 'refuse');
  });

  test('cancel on the waiting page: user_cancel straight back to the service', async () => {
    const { err, endPage } = await refusal('cancel');
    expect([err.code, err.userInformed, endPage]).toEqual(['user_cancel', false, undefined]);
  });

  test('an invalid personal code is refused on the form, in the language of the login, without calling Smart-ID', async () => {
    const sessions = h.rp.api.sessions.size;
    const { arrival } = await login({ country: 'LV', code: '010180-15098' });
    expect('page' in arrival && arrival.page.status).toBe(400);
    expect('page' in arrival && arrival.page.body).toContain('The personal code is not valid');
    expect(h.rp.api.sessions.size).toBe(sessions);
  });

  test('ADVANCED accepted where configured and asked: level substantial; clientAuth EKU of older certificates accepted', async () => {
    await withHarness({ ca, accounts: [advanced], entry: { certificate_level: 'ADVANCED' } }, async (adv) => {
      const { outcome } = await loginAs(adv, codeOf(advanced), { acr: 'substantial' });
      expect(outcome).toMatchObject({ identity: { loa: 'substantial' } });
    });
    const older = await login(codeOf(clientAuth));
    expect(older.outcome).toMatchObject({ identity: { subject: clientAuth.semanticsIdentifier } });
  });

  test.each(Object.entries(defects))(
    '%s: refused as access_denied with the gateway page',
    async (_name, { account, detail }) => {
      const { err, oauth } = await refusal(codeOf(account));
      expect([err.code, oauth, err.userInformed]).toEqual(['invalid_response', 'access_denied', false]);
      expect(err.detail).toMatch(detail);
    },
  );

  test('nothing personal in the operator log', () => {
    const lines = h.logger.lines.join('\n');
    for (const code of ['030303-10004', '030403-10016', '30303039914']) expect(lines).not.toContain(code);
  });
});

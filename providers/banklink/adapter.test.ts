// The banklink adapter against the real test bank on loopback: the shared conformance suite for
// 009/SHA-512 (4012/3013), legacy 008/SHA-1 and 4011/3012, then one test per rejection with the exact
// ProviderError code and message.
import { adapterConformance } from '../../test/support/adapter-conformance.ts';
import { ProviderError, runCallback, type StartResult } from '../../src/broker/adapter.ts';
import { newState } from '../../src/login/login-state.ts';
import { factory } from './index.ts';
import { createHarness, postStartForm, CALLBACK_URL, type BanklinkHarness, type DriveOptions } from './test-harness.ts';
import type { Callback } from '../../test/support/adapter-conformance.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';

adapterConformance('banklink 009 / SHA-512 / 4012-3013', () => createHarness());
adapterConformance('banklink legacy 008 / SHA-1 / 4012-3013, WINDOWS-1257', () =>
  createHarness(
    { version: '008', legacy: true, encoding: 'WINDOWS-1257', name_format: 'surname_space_given' },
    { nameFormat: 'surname_space_given' },
  ),
);
adapterConformance('banklink 009 / 4011-3012', () =>
  createHarness({ service: '4011', name_format: 'given_space_surname' }, { nameFormat: 'given_space_surname' }),
);

type Started = StartResult & { state: string; loginStartedAt: number };

async function startLogin(h: BanklinkHarness): Promise<Started> {
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

async function callback(h: BanklinkHarness, started: Started, cb: Callback) {
  return runCallback(h.adapter, {
    params: cb.params,
    method: cb.method,
    connData: started.connData,
    callbackUrl: CALLBACK_URL,
    correlationId: 'c',
    loginStartedAt: started.loginStartedAt,
  });
}

async function refusal(h: BanklinkHarness, started: Started, cb: Callback): Promise<ProviderError> {
  const err = await callback(h, started, cb).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('banklink adapter, 009 / SHA-512 / 4012', () => {
  let h: BanklinkHarness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.teardown());

  const loginWith = async (options: DriveOptions = {}, outcome: 'success' | 'cancel' = 'success') => {
    const started = await startLogin(h);
    return { started, cb: await h.login(started.action, outcome, options) };
  };

  test('start: a signed 4012 auto-POST form carrying the state as VK_RID, nonce kept for the callback', async () => {
    const started = await startLogin(h);
    expect(started.action.type).toBe('form');
    if (started.action.type !== 'form') return;
    const f = started.action.fields;
    expect(started.action.url).toBe(h.bank.url);
    expect(f).toMatchObject({
      VK_SERVICE: '4012',
      VK_VERSION: '009',
      VK_SND_ID: 'VPM',
      VK_REC_ID: 'TESTBANK',
      VK_RETURN: CALLBACK_URL,
      VK_RID: started.state,
      VK_ENCODING: 'UTF-8',
      VK_LANG: 'LAT',
    });
    expect(f.VK_NONCE).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(f.VK_DATETIME).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}$/);
    expect(started.connData).toEqual({ state: started.state, service: '4012', nonce: f.VK_NONCE });
    expect(h.adapter.stateFrom({ VK_RID: ` ${started.state} ` })).toBe(started.state);
    expect(h.adapter.stateFrom({})).toBeUndefined();
    // the bank verified the gateway's signature with the gateway certificate
    expect((await postStartForm(started.action)).status).toBe(200);
    expect(h.bank.lastRequest()?.VK_NONCE).toBe(f.VK_NONCE);
  });

  test('the test bank refuses a request whose signature does not verify, and a replayed request', async () => {
    const started = await startLogin(h);
    if (started.action.type !== 'form') throw new Error('form expected');
    const tampered = { ...started.action, fields: { ...started.action.fields, VK_RETURN: 'https://evil.example/cb' } };
    const refused = await postStartForm(tampered);
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('VK_MAC does not verify with the merchant certificate');
    expect((await postStartForm(started.action)).status).toBe(200);
    const again = await postStartForm(started.action);
    expect(again.status).toBe(400);
    expect(again.text).toContain('VK_NONCE was already used');
  });

  test('a verified answer yields the identity, amr and level for the token', async () => {
    const { started, cb } = await loginWith();
    const { identity, responseDigest } = await callback(h, started, cb);
    expect(identity).toMatchObject({
      givenName: 'JĀNIS',
      familyName: 'BĒRZIŅŠ',
      personalCode: '010180-15097',
      country: 'LV',
      amr: ['otp'],
      loa: 'substantial',
    });
    expect(identity.raw).toMatchObject({ userName: 'BĒRZIŅŠ,JĀNIS', token: '5' });
    expect(responseDigest).toMatch(/^sha256:/);
  });

  test('PIN calculator (VK_TOKEN 6), a new-format LV code and an Estonian user', async () => {
    const karlis = await loginWith({ user: 'karlis' });
    expect((await callback(h, karlis.started, karlis.cb)).identity).toMatchObject({
      personalCode: '161175-19997',
      amr: ['pin_calculator'],
      loa: 'substantial',
    });
    const anna = await loginWith({ user: 'anna' });
    expect((await callback(h, anna.started, anna.cb)).identity).toMatchObject({
      givenName: 'ANNA MARIJA',
      familyName: 'KALNIŅA',
      personalCode: '325035-11782',
      country: 'LV',
    });
    const ee = await loginWith({ user: 'tooger' });
    expect((await callback(h, ee.started, ee.cb)).identity).toMatchObject({
      givenName: 'LEÕPÄÖLD',
      familyName: 'TÕÕGER',
      personalCode: '37602294565',
      country: 'EE',
    });
  });

  test('a VK_MAC broken into lines is accepted', async () => {
    const { started, cb } = await loginWith({ misbehave: 'mac_line_breaks' });
    expect(cb.params.VK_MAC).toContain('\r\n');
    await expect(callback(h, started, cb)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  test.each([
    ['bad_signature', 'invalid_response: VK_MAC signature does not verify with the bank certificate'],
    ['no_mac', 'invalid_response: VK_MAC is missing'],
    ['wrong_sender', 'invalid_response: VK_SND_ID is not the configured bank id'],
    ['wrong_receiver', 'invalid_response: VK_REC_ID is not the gateway id at this bank'],
    ['wrong_service', 'invalid_response: VK_SERVICE "3012" is not the expected 3013'],
    ['wrong_version', 'invalid_response: VK_VERSION "008" is not the configured 009'],
    ['stale_time', 'invalid_response: VK_DATETIME is outside the 300 s window'],
    ['future_time', 'invalid_response: VK_DATETIME is outside the 300 s window'],
    [
      'early_time',
      expect.stringMatching(
        /^invalid_response: VK_DATETIME is 12\d s before this login started \(allowed 30 s\): an earlier authentication was reused$/,
      ),
    ],
    ['bad_datetime', 'invalid_response: VK_DATETIME is not yyyy-MM-ddTHH:mm:ss+hhmm'],
    ['wrong_nonce', 'invalid_response: VK_NONCE was not issued for this login'],
    ['replay_nonce', 'invalid_response: VK_NONCE was not issued for this login'],
    ['wrong_rid', 'invalid_response: VK_RID does not belong to this login'],
    [
      'unknown_user',
      'invalid_response: VK_USER_ID is not a valid LV personal code (Latvian personal code carries no valid date of birth)',
    ],
    ['bad_token', 'invalid_response: VK_TOKEN "99" is not a known authentication method'],
  ] as const)('bank misbehaviour %s is refused: %s', async (misbehave, message) => {
    if (misbehave === 'replay_nonce') {
      const earlier = await loginWith();
      await callback(h, earlier.started, earlier.cb);
    }
    const { started, cb } = await loginWith({ misbehave });
    const err = await refusal(h, started, cb);
    expect(err.code).toBe('invalid_response');
    expect(err.message).toEqual(message);
  });

  test('the unknown test user (chosen on the login page) is refused', async () => {
    const { started, cb } = await loginWith({ user: 'unknown' });
    const err = await refusal(h, started, cb);
    expect(err.message).toBe(
      'invalid_response: VK_USER_ID is not a valid LV personal code (Latvian personal code carries no valid date of birth)',
    );
    expect(err.message).not.toContain('123456');
  });

  test('cancel at the bank (signed answer with empty identity fields) is user_cancel', async () => {
    const { started, cb } = await loginWith({}, 'cancel');
    expect(cb.params).toMatchObject({
      VK_SERVICE: '3013',
      VK_USER_ID: '',
      VK_USER_NAME: '',
      VK_TOKEN: '',
      VK_COUNTRY: '',
    });
    const err = await refusal(h, started, cb);
    expect(err.code).toBe('user_cancel');
    expect(err.message).toBe('user_cancel: the user cancelled at the bank');
  });

  test('three wrong one-time codes end as a cancel', async () => {
    const started = await startLogin(h);
    if (started.action.type !== 'form') throw new Error('form expected');
    const { parseForms, submitForm } = await import('./test-bank/forms.ts');
    const page1 = await postStartForm(started.action);
    const loginForm = parseForms(page1.text, page1.url).find((f) => f.id === 'login')!;
    let page = await submitForm(loginForm);
    for (let i = 0; i < 3; i += 1) {
      const confirm = parseForms(page.text, page.url).find((f) => f.id === 'confirm' || f.id === 'autopost')!;
      if (confirm.id === 'autopost') break;
      page = await submitForm(confirm, { code: '000000' });
      if (i < 2) expect(page.text).toContain('Wrong code, try again.');
    }
    const answer = parseForms(page.text).find((f) => f.id === 'autopost')!;
    expect((await refusal(h, started, { method: 'POST', params: answer.fields })).code).toBe('user_cancel');
  });

  test('a cancel whose signature does not verify is not a cancel', async () => {
    const { started, cb } = await loginWith({}, 'cancel');
    const forged = {
      ...cb,
      params: { ...cb.params, VK_MAC: cb.params.VK_MAC!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) },
    };
    expect((await refusal(h, started, forged)).message).toBe(
      'invalid_response: VK_MAC signature does not verify with the bank certificate',
    );
  });

  test('the same answer twice: the nonce is single use in the store', async () => {
    const { started, cb } = await loginWith();
    await callback(h, started, cb);
    expect((await refusal(h, started, cb)).message).toBe(
      'invalid_response: VK_NONCE is unknown, expired or already used',
    );
  });

  test('an expired nonce is refused', async () => {
    const { started, cb } = await loginWith();
    const nonce = (started.connData as { nonce: string }).nonce;
    await h.deps.store.delete(`banklink:nonce:testbank:${nonce}`);
    expect((await refusal(h, started, cb)).message).toBe(
      'invalid_response: VK_NONCE is unknown, expired or already used',
    );
  });

  test('any field changed after signing breaks the MAC', async () => {
    for (const [field, value] of [
      ['VK_USER_ID', '010190-12349'],
      ['VK_USER_NAME', 'X,Y'],
      ['VK_TOKEN', '1'],
      ['VK_COUNTRY', 'EE'],
      ['VK_OTHER', 'x'],
    ] as const) {
      const { started, cb } = await loginWith();
      const err = await refusal(h, started, { ...cb, params: { ...cb.params, [field]: value } });
      expect(err.message).toBe('invalid_response: VK_MAC signature does not verify with the bank certificate');
    }
  });

  test('malformed answers: GET, missing MAC field, overlong field, other encoding, non-base64 MAC, foreign connData', async () => {
    const { started, cb } = await loginWith();
    const expectMessage = async (params: Record<string, string>, message: string, method: 'GET' | 'POST' = 'POST') =>
      expect((await refusal(h, started, { method, params })).message).toBe(message);
    await expectMessage(cb.params, 'invalid_response: banklink answer must arrive by POST', 'GET');
    const { VK_OTHER: _o, ...noOther } = cb.params;
    await expectMessage(noOther, 'invalid_response: answer is malformed: VK_OTHER is missing');
    await expectMessage(
      { ...cb.params, VK_OTHER: 'x'.repeat(151) },
      'invalid_response: VK_OTHER exceeds its maximum length',
    );
    await expectMessage(
      { ...cb.params, VK_ENCODING: 'ISO-8859-1' },
      'invalid_response: VK_ENCODING "ISO-8859-1" is not the configured UTF-8',
    );
    await expectMessage({ ...cb.params, VK_MAC: '***' }, 'invalid_response: VK_MAC is not base64');
    await expectMessage(
      { ...cb.params, VK_SERVICE: '1111' },
      'invalid_response: VK_SERVICE "1111" is not the expected 3013',
    );
    const err = await runCallback(h.adapter, {
      params: cb.params,
      method: 'POST',
      connData: { foo: 1 },
      callbackUrl: CALLBACK_URL,
      correlationId: 'c',
      loginStartedAt: started.loginStartedAt,
    }).catch((e: unknown) => e);
    expect((err as ProviderError).message).toBe('invalid_response: login carries no banklink request data');
    // the genuine answer still completes: refusals above consumed nothing
    await expect(callback(h, started, cb)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  test('no personal code reaches the application log', () => {
    expect(h.deps.logger.lines.join('\n')).not.toMatch(/010180|15097|37602294565/);
  });
});

describe('banklink adapter configuration and variants', () => {
  test('SHA-1 is refused unless the bank is marked legacy', async () => {
    const result = factory.schema.safeParse({
      ...BANKLINK_TEST_ENTRY,
      url: 'https://bank.example/',
      sender_id: 'A',
      receiver_id: 'B',
      version: '008',
      private_key: 'package.json',
      bank_certificate: 'package.json',
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'legacy: SHA-1 (VK_VERSION 008 or hash sha1) is only accepted for a bank marked legacy: true',
    ]);
  });

  test('legacy SHA-1: a warning at startup and an audit record per login', async () => {
    const h = await createHarness({ version: '008', legacy: true });
    try {
      expect(
        h.deps.logger.lines.some((l) => JSON.parse(l).msg === 'banklink provider uses the legacy SHA-1 algorithm'),
      ).toBe(true);
      const started = await startLogin(h);
      const cb = await h.login(started.action, 'success');
      await callback(h, started, cb);
      await startLogin(h);
      const legacy = h.deps.audit.events.filter((e) => e.type === 'legacy_algorithm_used');
      expect(legacy).toHaveLength(2);
      expect(legacy[0]).toMatchObject({ providerId: 'testbank', detail: { algorithm: 'RSA-SHA1', version: '008' } });
    } finally {
      await h.teardown();
    }
  });

  test('009 signed with SHA-1 by the bank is refused by a SHA-512 gateway', async () => {
    const h = await createHarness({}, { hash: 'sha1' });
    try {
      const started = await startLogin(h);
      // the bank expects SHA-1 for requests too, so it refuses ours: both sides fail closed
      const page = await postStartForm(started.action);
      expect(page.status).toBe(400);
      expect(page.text).toContain('VK_MAC does not verify with the merchant certificate');
    } finally {
      await h.teardown();
    }
  });

  test('4011/3012: no nonce, VK_REPLY 3012, and the answer binds by VK_RID only', async () => {
    const h = await createHarness({ service: '4011' });
    try {
      const started = await startLogin(h);
      if (started.action.type !== 'form') throw new Error('form expected');
      expect(started.action.fields).toMatchObject({ VK_SERVICE: '4011', VK_REPLY: '3012', VK_RID: started.state });
      expect(started.action.fields.VK_NONCE).toBeUndefined();
      const cb = await h.login(started.action, 'success');
      expect(cb.params.VK_SERVICE).toBe('3012');
      await expect(callback(h, started, cb)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
      const other = await startLogin(h);
      const moved = await h.login(other.action, 'success', { misbehave: 'wrong_rid' });
      expect((await refusal(h, other, moved)).message).toBe('invalid_response: VK_RID does not belong to this login');
      const cancelled = await startLogin(h);
      expect((await refusal(h, cancelled, await h.login(cancelled.action, 'cancel'))).code).toBe('user_cancel');
    } finally {
      await h.teardown();
    }
  });

  test('ISO-8859-1 bank with an Estonian user; a country the bank may not vouch for is refused', async () => {
    const h = await createHarness({ encoding: 'ISO-8859-1', countries: ['LV'] });
    try {
      const started = await startLogin(h);
      const cb = await h.login(started.action, 'success', { user: 'tooger' });
      expect(cb.params.VK_ENCODING).toBe('ISO-8859-1');
      expect((await refusal(h, started, cb)).message).toBe(
        'invalid_response: VK_COUNTRY "EE" is not accepted from this bank',
      );
    } finally {
      await h.teardown();
    }
  });

  test('a name that does not have the configured shape is refused', async () => {
    const h = await createHarness({ name_format: 'surname_comma_given' }, { nameFormat: 'given_space_surname' });
    try {
      const started = await startLogin(h);
      const cb = await h.login(started.action, 'success');
      expect((await refusal(h, started, cb)).message).toBe(
        'invalid_response: VK_USER_NAME does not have the configured surname_comma_given shape',
      );
    } finally {
      await h.teardown();
    }
  });

  test('the level is capped at the bank level and tokens can be remapped', async () => {
    const h = await createHarness({ loa: 'low', tokens: { '5': { amr: ['sms_otp'], loa: 'high' } } });
    try {
      const started = await startLogin(h);
      const cb = await h.login(started.action, 'success');
      expect((await callback(h, started, cb)).identity).toMatchObject({ amr: ['sms_otp'], loa: 'low' });
      const pin = await startLogin(h);
      const cb6 = await h.login(pin.action, 'success', { user: 'karlis' });
      expect((await refusal(h, pin, cb6)).message).toBe(
        'invalid_response: VK_TOKEN "6" is not a known authentication method',
      );
    } finally {
      await h.teardown();
    }
  });

  test('009 refuses keys under 2048 bits', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { writeFileSync } = await import('node:fs');
    const h = await createHarness();
    try {
      const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      writeFileSync(`${h.dir}/small.pem`, small);
      expect(() => factory.create({ ...h.config, private_key: `${h.dir}/small.pem` }, h.deps)).toThrow(
        'provider testbank: private_key: is RSA-1024; VK_VERSION 009 needs at least 2048 bits',
      );
    } finally {
      await h.teardown();
    }
  });
});

describe('banklink adapter with the Redis store', () => {
  test('the nonce is single use across adapter instances sharing Redis (as in a multi-instance deployment)', async () => {
    const { RedisStore } = await import('../../src/store/redis.ts');
    const { randomBytes } = await import('node:crypto');
    const prefix = `banklink-test-${randomBytes(6).toString('hex')}:`;
    const redisA = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
    const redisB = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
    const h = await createHarness();
    try {
      const a = await factory.create(h.config, { ...h.deps, store: redisA });
      const b = await factory.create(h.config, { ...h.deps, store: redisB });
      const state = newState();
      const loginStartedAt = Date.now();
      const started = await a.start({
        browser: TEST_BROWSER_DIGEST,
        state,
        callbackUrl: CALLBACK_URL,
        locale: 'en',
        correlationId: 'c',
      });
      const issued = `banklink:nonce:testbank:${(started.connData as { nonce: string }).nonce}`;
      expect(await redisB.get(issued)).toBe(state); // issued, bound to the login, and expiring
      expect(await redisB.ttl(issued)).toBeGreaterThan(800);
      expect(await redisB.ttl(issued)).toBeLessThanOrEqual(900);
      const cb = await h.login(started.action, 'success');
      const ctx = {
        params: cb.params,
        method: cb.method,
        connData: started.connData,
        callbackUrl: CALLBACK_URL,
        correlationId: 'c',
        loginStartedAt,
      };
      await expect(b.callback(ctx)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
      await expect(a.callback(ctx)).rejects.toThrow('invalid_response: VK_NONCE is unknown, expired or already used');
      const nonce = (started.connData as { nonce: string }).nonce;
      expect(await redisA.get(`banklink:nonce:testbank:${nonce}`)).toBeUndefined();
    } finally {
      await h.teardown();
      await redisA.close();
      await redisB.close();
    }
  });
});

// The banklink adapter against the real test bank on loopback (009 / SHA-512 / 4012): the signed start
// form, the bank's checks of it, verified answers and the identity they yield, and the nonce shared by
// adapter instances on Redis.
import { newState } from '../../src/login/login-state.ts';
import { factory } from './index.ts';
import { createHarness, postStartForm, CALLBACK_URL, type DriveOptions } from './test-harness.ts';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { useHarness, startLogin, callback, startAndAnswer } from './test-logins.ts';

describe('banklink adapter, 009 / SHA-512 / 4012', () => {
  const h = useHarness();

  const loginWith = (options: DriveOptions = {}, outcome: 'success' | 'cancel' = 'success') =>
    startAndAnswer(h, options, outcome);

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

  test('no personal code reaches the application log', () => {
    expect(h.deps.logger.lines.join('\n')).not.toMatch(/010180|15097|37602294565/);
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
        authenticatedNotBefore: undefined,
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

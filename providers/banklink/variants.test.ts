// The banklink adapter's variants against the real test bank on loopback: the shared conformance suite for
// 009/SHA-512 (4012/3013), legacy 008/SHA-1 and 4011/3012, and one test per configuration rule and variant.
import { adapterConformance } from '../../test/support/adapter-conformance.ts';
import { factory } from './index.ts';
import { createHarness, postStartForm } from './test-harness.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { startLogin, callback, refusal } from './test-logins.ts';

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

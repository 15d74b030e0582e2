// The banklink adapter against the real test bank on loopback (009 / SHA-512 / 4012): each answer it
// refuses, with the exact ProviderError code and message (bank misbehaviour, cancels, replays, altered or
// malformed fields), and no personal code in the application log.
import { type ProviderError, runCallback } from '../../src/broker/adapter.ts';
import { postStartForm, CALLBACK_URL, type DriveOptions } from './test-harness.ts';
import { useHarness, startLogin, callback, refusal, startAndAnswer } from './test-logins.ts';

describe('banklink adapter, 009 / SHA-512 / 4012', () => {
  const h = useHarness();

  const loginWith = (options: DriveOptions = {}, outcome: 'success' | 'cancel' = 'success') =>
    startAndAnswer(h, options, outcome);

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
      authenticatedNotBefore: undefined,
    }).catch((e: unknown) => e);
    expect((err as ProviderError).message).toBe('invalid_response: login carries no banklink request data');
    // the genuine answer still completes: refusals above consumed nothing
    await expect(callback(h, started, cb)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  test('no personal code reaches the application log', () => {
    expect(h.deps.logger.lines.join('\n')).not.toMatch(/010180|15097|37602294565/);
  });
});

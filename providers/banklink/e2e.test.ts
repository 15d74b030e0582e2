// End to end through the whole gateway: openid-client plays the agency service, the gateway sends the
// browser to a real test bank (4012 signed by the gateway, 3013 signed by the bank), and each rejection is
// asserted twice: the page the user sees and the OAuth error the agency service gets. The gateway with
// its three test banks is ./test-gateway.ts.
import { compactDecrypt } from 'jose';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { allBytes } from '../../test/audit/helpers.ts';
import { beginLogin, atRp, claimsOf } from '../../test/support/gateway.ts';
import { useBankGateway, banks, auditor, audited, loginAtBank, signedByBank, refusedThenBack } from './test-gateway.ts';

const gw = useBankGateway();

describe('banklink logins through the gateway', () => {
  test('009 / SHA-512: the agency service gets a verified ID token with the bank identity', async () => {
    const l = await loginAtBank('modernbank');
    const final = await l.browser.follow(l.landing, atRp);
    const claims = await claimsOf(gw.rp, l.login, final);
    expect(claims).toMatchObject({
      sub: 'PNOLV-010180-15097',
      given_name: 'JĀNIS',
      family_name: 'BĒRZIŅŠ',
      personal_code: '010180-15097',
      acr: 'substantial',
      amr: ['otp'],
      idp: 'modernbank',
    });
  });

  test('legacy 008 / SHA-1 with WINDOWS-1257: works, and leaves a legacy_algorithm_used audit record', async () => {
    const l = await loginAtBank('legacybank', { user: 'tooger' });
    const final = await l.browser.follow(l.landing, atRp);
    const claims = await claimsOf(gw.rp, l.login, final);
    expect(claims).toMatchObject({
      sub: 'PNOEE-37602294565',
      given_name: 'LEÕPÄÖLD',
      family_name: 'TÕÕGER',
      idp: 'legacybank',
    });
    const audit = gw.audit as unknown as { events: { type: string; providerId?: string }[] };
    expect(audit.events.some((e) => e.type === 'legacy_algorithm_used' && e.providerId === 'legacybank')).toBe(true);
    expect(
      gw.logLines.some(
        (line) => line.includes('banklink provider uses the legacy SHA-1 algorithm') && line.includes('legacybank'),
      ),
    ).toBe(true);
  });

  test('4011 / 3012 (no nonce): works', async () => {
    const l = await loginAtBank('nononcebank', { user: 'karlis' });
    expect(l.answer.VK_SERVICE).toBe('3012');
    const final = await l.browser.follow(l.landing, atRp);
    expect(await claimsOf(gw.rp, l.login, final)).toMatchObject({
      sub: 'PNOLV-161175-19997',
      amr: ['pin_calculator'],
      acr: 'substantial',
    });
  });

  test('cancel at the bank: straight back to the service with error=user_cancel', async () => {
    const l = await loginAtBank('modernbank', { cancel: true });
    expect(l.landing.status).toBe(303);
    const final = await l.browser.follow(l.landing, atRp);
    const q = new URL(final.location!).searchParams;
    expect(q.get('error')).toBe('user_cancel');
    expect(q.get('error_description')).toBe('the user cancelled the authentication');
    expect(q.get('state')).toBe(l.login.state);
  });

  test.each([
    ['bad_signature', 'VK_MAC signature does not verify with the bank certificate'],
    ['wrong_sender', 'VK_SND_ID is not the configured bank id'],
    ['wrong_receiver', 'VK_REC_ID is not the gateway id at this bank'],
    ['stale_time', 'VK_DATETIME is outside the 300 s window'],
    ['early_time', 'before this login started (allowed 30 s)'],
    ['replay_nonce', 'VK_NONCE was not issued for this login'],
    ['wrong_nonce', 'VK_NONCE was not issued for this login'],
    ['unknown_user', 'VK_USER_ID is not a valid LV personal code'],
    ['bad_token', 'VK_TOKEN "99" is not a known authentication method'],
  ] as const)(
    'bank misbehaviour %s: the user sees "could not be verified", the service gets access_denied',
    async (misbehave, reason) => {
      if (misbehave === 'replay_nonce') await loginAtBank('modernbank'); // an earlier login whose nonce the bank replays
      const l = await loginAtBank('modernbank', { misbehave });
      expect(l.landing.body).toContain('Login failed');
      expect(l.landing.body).toContain('The provider&#39;s answer could not be verified.');
      expect(l.landing.body).toMatch(
        /<a class="button" href="\/interaction\/[^"]+\/complete">Return to the e-service<\/a>/,
      ); // a way back
      const q = await refusedThenBack(l);
      expect(q.get('error')).toBe('access_denied');
      expect(q.get('error_description')).toBe('the provider answer could not be verified');
      const audit = gw.audit as unknown as { events: { type: string; detail?: { code?: string; reason?: string } }[] };
      const last = audit.events.filter((e) => e.type === 'verification_error').at(-1)!;
      expect(last.detail).toMatchObject({ code: 'invalid_response' });
      expect(last.detail!.reason).toContain(reason);
      expect(gw.logLines.join('\n')).not.toMatch(/010180-15097|123456-12345/);
    },
  );

  test('wrong VK_RID naming another live login: refused, and that login fails closed', async () => {
    // login A reaches the bank and gets its answer, which is never delivered: A is still open
    const a = await loginAtBank('modernbank', { deliver: false });
    // the bank answers login B (another tab of the same browser, so the browser binding holds) with A's
    // VK_RID (correctly signed): it lands on A, whose nonce it lacks
    const b = await loginAtBank('modernbank', { misbehave: 'wrong_rid', browser: a.browser });
    expect(b.answer.VK_RID).toBe(a.answer.VK_RID);
    expect(b.landing.body).toContain('The provider&#39;s answer could not be verified.');
    const audit = gw.audit as unknown as { events: { type: string; detail?: { reason?: string } }[] };
    expect(audit.events.filter((e) => e.type === 'verification_error').at(-1)!.detail!.reason).toContain(
      'VK_NONCE was not issued for this login',
    );
    // the refusal ended login A: A's own answer, posted late, is refused
    const late = await a.browser.post(`${gw.issuer}/broker/callback/modernbank`, a.answer);
    expect(late.status).toBe(400);
    expect(late.body).toContain('This login step was already completed or is no longer valid');
  });

  test('the same bank answer posted twice: the second finds no login', async () => {
    const l = await loginAtBank('modernbank');
    await l.browser.follow(l.landing, atRp);
    const again = await l.browser.post(`${gw.issuer}/broker/callback/modernbank`, l.answer);
    expect(again.status).toBe(400);
    expect(again.body).toContain('This login step was already completed or is no longer valid');
    expect(again.body).toMatch(/<form method="post" action="\/interaction\/[^"]+\/abort">/);
  });

  test('a 150,000-character VK_SERVICE: 400 with an audit record, and the service hears access_denied', async () => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const page = await l.browser.post(`${gw.issuer}/broker/callback/modernbank`, {
      ...l.answer,
      VK_SERVICE: '3'.repeat(150_000),
    });
    expect(page.status).toBe(400);
    const audit = gw.audit as unknown as {
      events: { type: string; correlationId?: string; detail?: { reason?: string } }[];
    };
    const refused = audit.events.at(-1)!;
    expect(refused).toMatchObject({
      type: 'provider_response_error',
      detail: { reason: 'field VK_SERVICE longer than 4096 characters' },
    });
    expect(refused.correlationId).toBeTruthy();
    const back = /<a class="button" href="([^"]+)">/.exec(page.body)![1]!;
    const final = await l.browser.follow(await l.browser.get(new URL(back, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
  });

  test('a long field named after an Object.prototype member is held to the same limit', async () => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const page = await l.browser.post(`${gw.issuer}/broker/callback/modernbank`, {
      ...l.answer,
      constructor: 'x'.repeat(150_000),
    });
    expect(page.status).toBe(400);
    const audit = gw.audit as unknown as { events: { type: string; detail?: { reason?: string } }[] };
    expect(audit.events.at(-1)).toMatchObject({
      type: 'provider_response_error',
      detail: { reason: 'field constructor longer than 4096 characters' },
    });
  });

  test('CSP form-action allows our own origin and the banks the gateway posts to, nothing else', async () => {
    const started = await beginLogin(gw.rp, { ui_locales: 'en' });
    const page = await started.browser.follow(started.hop);
    const formAction = /form-action ([^;]*)/
      .exec(page.headers.get('content-security-policy') ?? '')![1]!
      .trim()
      .split(/\s+/);
    expect(formAction).toContain("'self'");
    for (const b of Object.values(banks)) expect(formAction).toContain(new URL(b.url).origin);
    expect(formAction).not.toContain('*');
  });

  test.each([
    ['a Latvian', 'B&Emacr;RZI&Ncedil;&Scaron;,J&Amacr;NIS', 'BĒRZIŅŠ', 'JĀNIS'],
    ['an Estonian', 'T&otilde;&otilde;ger,M&auml;rt', 'Tõõger', 'Märt'],
    ['a Lithuanian', '&Zcaron;EMAITIS,&Scaron;ar&#363;nas', 'ŽEMAITIS', 'Šarūnas'],
  ])('%s name with HTML5 named references reaches the ID token decoded', async (_, name, family, given) => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const answer = signedByBank('modernbank', l.answer, { VK_USER_NAME: name });
    const landing = await l.browser.post(`${gw.issuer}/broker/callback/modernbank`, answer);
    const final = await l.browser.follow(landing, atRp);
    expect(await claimsOf(gw.rp, l.login, final)).toMatchObject({ family_name: family, given_name: given });
  });

  test.each([
    ['not in the HTML5 table', 'B&Emacrx;RZI&Ncedil;&Scaron;,J&Amacr;NIS'],
    ['encoded twice', 'B&amp;Emacr;RZI&amp;Ncedil;&amp;Scaron;,J&amp;Amacr;NIS'],
  ])('a name with a reference %s: refused, never passed on as literal text', async (_, name) => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const answer = signedByBank('modernbank', l.answer, { VK_USER_NAME: name });
    const refused = { ...l, landing: await l.browser.post(`${gw.issuer}/broker/callback/modernbank`, answer) };
    expect(refused.landing.body).toContain('The provider&#39;s answer could not be verified.');
    const q = await refusedThenBack(refused);
    expect(q.get('error')).toBe('access_denied');
    expect(q.get('code')).toBeNull();
    const audit = gw.audit as unknown as { events: { type: string; detail?: { code?: string; reason?: string } }[] };
    expect(audit.events.filter((e) => e.type === 'verification_error').at(-1)!.detail).toEqual({
      code: 'invalid_response',
      reason:
        'invalid_response: VK_USER_NAME holds an HTML character reference that is not in the HTML5 table or is encoded twice',
    });
    expect(gw.logLines.join('\n')).not.toMatch(/RZI|Emacr/);
  });

  test("the raw VK_USER_NAME is kept for the audit trail: in the verification entry's claims, encrypted to the auditor", async () => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const sent = 'B&Emacr;RZI&Ncedil;&Scaron;,J&Amacr;NIS';
    const landing = await l.browser.post(
      `${gw.issuer}/broker/callback/modernbank`,
      signedByBank('modernbank', l.answer, { VK_USER_NAME: sent }),
    );
    await claimsOf(gw.rp, l.login, await l.browser.follow(landing, atRp));
    const memory = gw.audit as unknown as MemoryAuditLog;
    const corr = memory.events.filter((e) => e.type === 'verification').at(-1)!.correlationId;
    const text = allBytes(audited.files.dir).toString('utf8');
    const entries = text
      .split('\n')
      .filter((line) => line.startsWith('{"leaf"'))
      .map((line) => (JSON.parse(line) as { entry: { type: string; corr?: string; claims?: string } }).entry);
    const verified = entries.find((e) => e.type === 'verification' && e.corr === corr)!;
    const { plaintext } = await compactDecrypt(verified.claims!, auditor.privateKey);
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({ userName: sent, token: '5' });
    // in the files only encrypted: neither as sent nor decoded
    for (const plain of [sent, 'BĒRZIŅŠ', 'JĀNIS']) expect(text).not.toContain(plain);
  });

  test('a level the bank method does not reach: unmet_authentication_requirements', async () => {
    const l = await loginAtBank('modernbank', { params: { acr_values: 'high' } });
    expect(l.landing.body).toContain('does not meet the level of assurance the service requires');
    const q = await refusedThenBack(l);
    expect(q.get('error')).toBe('unmet_authentication_requirements');
  });
});

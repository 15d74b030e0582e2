// A bank answer that meets a store outage at the callback: the retry page posts the same answer again (its
// Try again form, src/web/store-outage.ts), and the login goes on. A bank whose answer page is in
// WINDOWS-1257 posts its fields in that encoding (src/web/form-charset.ts): the retry page must carry the
// fields as the bank signed them, or the second post no longer verifies and a login the bank confirmed is
// refused as forged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CutOffStore } from '../../test/support/cut-off-store.ts';
import { atRp, beginLogin, claimsOf, useGateway } from '../../test/support/gateway.ts';
import { BANKLINK_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { startTestBank } from './test-bank/bank.ts';
import { parseForms } from './test-bank/forms.ts';
import { gatewayKeys, GATEWAY_ID } from './test-harness.ts';

const store = new CutOffStore();

const gw = useGateway(async ({ dir, cleanup }) => {
  const keys = await gatewayKeys();
  writeFileSync(join(dir, 'gateway-key.pem'), keys.privateKeyPem, { mode: 0o600 });
  const providers = [];
  for (const [id, encoding] of [
    ['legacybank', 'WINDOWS-1257'],
    ['utf8bank', 'UTF-8'],
  ] as const) {
    const bank = await startTestBank({
      bankId: id.toUpperCase(),
      merchantId: GATEWAY_ID,
      merchantCertificatePem: keys.certificatePem,
      displayName: `${id} (test)`,
    });
    cleanup(() => bank.close());
    writeFileSync(join(dir, `${id}.pem`), bank.certificatePem);
    providers.push({
      ...BANKLINK_TEST_ENTRY,
      id,
      name: { lv: id, en: id },
      url: bank.url,
      sender_id: GATEWAY_ID,
      receiver_id: id.toUpperCase(),
      private_key: join(dir, 'gateway-key.pem'),
      bank_certificate: join(dir, `${id}.pem`),
      ...(encoding === 'UTF-8' ? { version: '009' } : { version: '008', legacy: true, encoding }),
    });
  }
  return { store, providers };
});

afterEach(() => store.restore());

type Failing = NonNullable<CutOffStore['failing']>;
const where: [string, Failing][] = [
  // the abuse limit counts the request before any route has read its body
  ['its first store operation', () => true],
  // the callback has read the form and takes the login's state
  ['the login state taken', (op) => op === 'takeAndMark'],
];

test.each(['legacybank', 'utf8bank'].flatMap((bank) => where.map(([at, failing]) => [bank, at, failing] as const)))(
  '%s: the answer meets a store outage at %s, the Try again form posts it again and the login goes on',
  async (providerId, _at, failing) => {
    const started = await beginLogin(gw.rp, { idp_hint: providerId, ui_locales: 'en' });
    const { browser } = started;
    const bankPage = await browser.follow(started.hop);
    const login = parseForms(bankPage.body, bankPage.url).find((f) => f.id === 'login')!;
    const codePage = await browser.post(login.action, { ...login.fields, user: 'tooger' });
    const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
    const answerPage = await browser.post(confirm.action, { ...confirm.fields, code: '123456' });
    const answer = parseForms(answerPage.body, answerPage.url).find((f) => f.id === 'autopost')!;

    store.failing = failing;
    const refused = await browser.post(answer.action, answer.fields, answerPage.charset);
    expect(refused.status).toBe(503);
    const retry = parseForms(refused.body, refused.url).find((f) => f.action === answer.action)!;
    expect(retry).toBeDefined();

    const again = await browser.post(retry.action, retry.fields, refused.charset);
    expect(again.status).toBe(303);
    const final = await browser.follow(again, atRp);
    expect(await claimsOf(gw.rp, started, final)).toMatchObject({
      given_name: 'LEÕPÄÖLD',
      family_name: 'TÕÕGER',
      idp: providerId,
    });
  },
);

// The language a person chooses on the Smart-ID form (Russian too, which the gateway's own pages lack) is
// carried by the form's posts and stays the login's: the waiting page, an error on the form and the page
// that says how the login ended speak it without a ?lang= of their own.
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { beginLogin, codeOf } from './test-logins.ts';
import { follow, visit } from './test-user.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320096-10001',
  givenName: 'Olga',
  surname: 'Ivanova',
  behaviour: 'phone',
};
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ca: await TestCa.create(), accounts: [holder] });
});
afterAll(() => h.close());

/** The form a login begun in Latvian shows once Russian was chosen on it, and what it posts. */
async function russianForm() {
  const login = await beginLogin(h, { locale: 'lv' });
  const form = await visit(`${login.action.url}&lang=ru`);
  expect(form.body).toContain('Введите персональный код');
  const lang =
    /<form method="post" action="[^"]+\/login"><input type="hidden" name="h" value="[^"]+"><input type="hidden" name="lang" value="([a-z]+)">/.exec(
      form.body,
    )?.[1];
  return { login, lang: lang ?? '' };
}

test('an invalid code posted from the Russian form is refused in Russian', async () => {
  const { login, lang } = await russianForm();
  expect(lang).toBe('ru');
  const refused = await visit(`${h.origin}${h.adapter.pagesPath}/login`, {
    h: login.handle,
    lang,
    country: 'LV',
    code: '010180-15098',
  });
  expect([refused.status, refused.body.includes('Персональный код недействителен')]).toEqual([400, true]);
});

test('the waiting page and the ending of a login begun from the Russian form are in Russian', async () => {
  const { login, lang } = await russianForm();
  const posted = await visit(`${h.origin}${h.adapter.pagesPath}/login`, { h: login.handle, lang, ...codeOf(holder) });
  const waiting = await visit(posted.location!);
  expect(waiting.body).toContain('Подтвердите в приложении Smart-ID');
  await h.phone(holder.semanticsIdentifier, 'refuse');
  const arrival = await follow(h, await visit(posted.location!));
  expect('callback' in arrival && arrival.endPage).toContain('Вы отказались от входа');
});

test('a QR code shown from the Russian form: the page in Russian, the app asked to speak Russian (lang=rus)', async () => {
  const login = await beginLogin(h, { locale: 'lv' });
  const form = await visit(`${login.action.url}&lang=ru`);
  expect(form.body).toMatch(
    /action="[^"]+\/qr"><input type="hidden" name="h" value="[^"]+"><input type="hidden" name="lang" value="ru">/,
  );
  const shown = await visit(`${h.origin}${h.adapter.pagesPath}/qr`, { h: login.handle, lang: 'ru' });
  expect((await visit(shown.location!)).body).toContain('отсканируйте этот QR-код');
  const link = await visit(`${h.origin}${h.adapter.pagesPath}/qr.svg?h=${login.handle}&format=text`);
  expect(new URL(link.body).searchParams.get('lang')).toBe('rus');
});

test("a page whose login is gone speaks the browser's language (Accept-Language), not always Latvian", async () => {
  const gone = `${h.origin}${h.adapter.pagesPath}/wait?h=no-such-login`;
  const english = await visit(gone, undefined, { 'accept-language': 'en-GB,en;q=0.9' });
  expect(english.status).toBe(400);
  expect(english.body).toContain('<html lang="en"');
  const russian = await visit(`${h.origin}${h.adapter.pagesPath}/login?h=no-such-login`, undefined, {
    'accept-language': 'ru',
  });
  expect(russian.body).toContain('<html lang="ru"');
});

test('a login begun in Russian at the gateway shows the Smart-ID form in Russian (banks and IdPs get English)', async () => {
  const login = await beginLogin(h, { locale: 'ru' });
  const form = await visit(login.action.url);
  expect(form.body).toContain('<html lang="ru"');
  expect(form.body).toContain('Введите персональный код');
});

test("the ending page gives the login's reference for the help desk, as the gateway's own failure pages do", async () => {
  const login = await beginLogin(h, { locale: 'en', correlationId: 'AbCdEfGhIjKlMnOp' });
  const posted = await visit(`${h.origin}${h.adapter.pagesPath}/login`, { h: login.handle, ...codeOf(holder) });
  await visit(posted.location!);
  await h.phone(holder.semanticsIdentifier, 'refuse');
  const arrival = await follow(h, await visit(posted.location!));
  expect('callback' in arrival && arrival.endPage).toContain('Reference for the help desk: <code>AbCdEfGhIj</code>');
});

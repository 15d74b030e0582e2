// Full logins as a citizen clicks them in a real browser (Debian's Chromium), from the demo e-service
// through the selection page to each in-process demo provider and back to the verified claims: the mock
// eID, both test banks (auto-posted signed banklink forms), the test eIDAS SAML IdP (auto-posted signed
// AuthnRequest and answer) and the OIDC test eID; no console error and no third-party request on the way.
import { jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage } from '../support/chromium.ts';
import { startDemo, type Demo } from './demo-process.ts';

// a real browser under a shared, busy CI machine: axe-core alone takes seconds per page
jest.setTimeout(120_000);

let demo: Demo;
let browser: Browser;

beforeAll(async () => {
  // Chromium first: when it cannot start, no demo gateway is left running behind the failed set-up
  browser = await launchChromium();
  demo = await startDemo();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

/** At the provider's own pages: what a person does there. */
const AT_PROVIDER: Record<string, (page: Page) => Promise<void>> = {
  'demo-eid': (page) => page.click('button:has-text("Jānis")'),
  'demo-bank': bankLogin,
  'demo-legacy-bank': bankLogin,
  'demo-eidas': (page) => page.click('button[value="login"]'),
  'demo-oidc-eid': async (page) => {
    await page.selectOption('select[name="user"]', 'janis');
    await page.click('button:has-text("Log in")');
  },
};

async function bankLogin(page: Page): Promise<void> {
  await page.check('input[name="user"][value="janis"]');
  await page.click('form#login button[type="submit"]');
  await page.fill('input[name="code"]', (await page.textContent('#hint'))!);
  await page.click('form#confirm button[type="submit"]');
}

test.each(Object.keys(AT_PROVIDER))('a full login through %s, chosen on the selection page', async (provider) => {
  const { context, page, problems } = await openPage(browser, demo.base);
  await page.goto(`${demo.base}/`);
  await page.selectOption('select[name="lang"]', 'lv');
  await page.click('button[type="submit"]');
  await page.click(`button[data-provider="${provider}"]`);
  await AT_PROVIDER[provider]!(page);
  await page.waitForURL(/\/demo\/callback/);
  expect(await page.textContent('h1')).toMatch(/Welcome, (Jānis Bērziņš|JĀNIS BĒRZIŅŠ)/i);
  const claims = await page.$$eval('dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
  );
  expect(claims.idp).toBe(provider);
  expect(claims.personal_code).toBe('010180-15097');
  expect(problems.console).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.foreignRequests).toEqual([]);
  await context.close();
});

test("the engine's self-posting forms are our page: a logout with no session, with scripts and without", async () => {
  const logout = `${demo.base}/session/end?${new URLSearchParams({
    client_id: 'demo-service',
    post_logout_redirect_uri: `${demo.base}/`,
    ui_locales: 'lv',
  })}`;
  // with scripts the page posts itself (its script runs under the page's CSP) and the logout ends at the service
  const scripted = await openPage(browser, demo.base);
  await scripted.page.goto(logout);
  await scripted.page.waitForURL(`${demo.base}/`);
  expect(scripted.problems.console).toEqual([]);
  await scripted.context.close();
  // without scripts: a page in the logout's language, with a heading and a button to go on
  const plain = await openPage(browser, demo.base, { javaScriptEnabled: false });
  await plain.page.goto(logout);
  expect(await plain.page.getAttribute('html', 'lang')).toBe('lv');
  expect(await plain.page.textContent('h1')).toBe('Notiek pāradresācija…');
  await plain.page.click('button:has-text("Turpināt")');
  await plain.page.waitForURL(`${demo.base}/`);
  await plain.context.close();
});

test('the demo opened as 127.0.0.1 instead of localhost (the issuer) logs in all the same', async () => {
  const other = demo.base.replace('//localhost:', '//127.0.0.1:');
  expect(other).not.toBe(demo.base);
  const { context, page, problems } = await openPage(browser, other);
  await page.goto(`${other}/`);
  await page.selectOption('select[name="lang"]', 'en');
  await page.click('button[type="submit"]');
  // the login begins on the issuer's host, where its state cookie is set and the gateway answers
  expect(page.url().startsWith(`${demo.base}/interaction/`)).toBe(true);
  await page.click('button[data-provider="demo-eid"]');
  await AT_PROVIDER['demo-eid']!(page);
  await page.waitForURL(/\/demo\/callback/);
  expect(await page.textContent('h1')).toBe('Welcome, Jānis Bērziņš');
  expect(problems.console).toEqual([]);
  await context.close();
});

// The selection page in a real browser (Debian's Chromium): in each language, chosen by the service's
// ui_locales, by the browser's Accept-Language and by the page's own switcher in the middle of a login;
// on a 320 px phone; by keyboard alone; without scripts; with axe-core's WCAG 2.1 AA rules, no console
// error and no request to any other origin. Screenshots of each language land in var/screenshots.
import { jest } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, launchChromium, openPage, screenshot, scrollsSideways } from '../support/chromium.ts';
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

const HEADINGS = {
  lv: 'Izvēlieties autentifikācijas veidu',
  en: 'Choose how to authenticate',
  ru: 'Выберите способ аутентификации',
} as const;

/** The demo e-service's login with these settings, up to the gateway's selection page. */
async function toSelection(page: Page, lang: string): Promise<void> {
  await page.goto(`${demo.base}/`);
  await page.selectOption('select[name="lang"]', lang);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/interaction\/[^/?]+(\?|$)/);
}

async function expectClean(
  page: Page,
  problems: { console: string[]; foreignRequests: string[]; failedRequests: string[] },
) {
  expect(await axeViolations(page)).toEqual([]);
  expect(problems.console).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.foreignRequests).toEqual([]);
}

test('PORT alone moves the whole demo: the printed link and the issuer follow it', () => {
  expect(demo.base).toBe(`http://localhost:${demo.port}`);
  expect(demo.output()).toContain(`"issuer":"http://localhost:${demo.port}"`);
});

test.each(['lv', 'en', 'ru'] as const)(
  'the selection page in %s: grouped providers with logos, the service, the footer',
  async (lang) => {
    const { context, page, problems } = await openPage(browser, demo.base);
    await toSelection(page, lang);
    expect(await page.getAttribute('html', 'lang')).toBe(lang);
    expect(await page.textContent('h1')).toBe(HEADINGS[lang]);
    // the CSP stays strict: no inline style or script without the nonce, images from the gateway only
    const csp = (await page.request.get(page.url())).headers()['content-security-policy']!;
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("img-src 'self';");
    expect(csp).toMatch(/style-src 'self' 'nonce-[^']+';/);
    // who asks, in the header of the main content
    expect(await page.textContent('.service strong')).toBe('Demo e-pakalpojums');
    // groups in the configured order, providers in the configured order, names in the page's language
    const groups = await page.$$eval('main section h2', (hs) => hs.map((h) => h.id));
    expect(groups).toEqual(['group-bank', 'group-eid', 'group-eidas']);
    const providers = await page.$$eval('button[data-provider]', (bs) =>
      bs.map((b) => b.getAttribute('data-provider')),
    );
    expect(providers).toEqual([
      'demo-bank',
      'demo-legacy-bank',
      'demo-eid',
      'demo-oidc-eid',
      'demo-smartid',
      'demo-eidas',
    ]);
    const bankName = { lv: 'Demo Banka', en: 'Demo Bank', ru: 'Демо банк' }[lang];
    expect(await page.textContent('button[data-provider="demo-bank"]')).toBe(bankName);
    // every logo loaded from the gateway itself
    const logos = await page.$$eval('button[data-provider] img', (imgs) =>
      imgs.map((i) => {
        const img = i as unknown as { src: string; naturalWidth: number };
        return { src: img.src, ok: img.naturalWidth > 0 };
      }),
    );
    expect(logos).toHaveLength(6);
    for (const logo of logos) {
      expect(logo.src.startsWith(`${demo.base}/assets/providers/`)).toBe(true);
      expect(logo.ok).toBe(true);
    }
    expect(await page.getAttribute('footer a[href="/demo/privacy"]', 'href')).toBe('/demo/privacy');
    expect(await page.textContent('footer')).toContain('palidziba@example.lv');
    await expectClean(page, problems);
    await page.setViewportSize({ width: 1024, height: 900 });
    await screenshot(page, `selection-${lang}`);
    await context.close();
  },
);

test('without ui_locales the browser language decides; the switcher then changes it for the rest of the login', async () => {
  const { context, page, problems } = await openPage(browser, demo.base, { locale: 'ru-RU' });
  await toSelection(page, '');
  expect(await page.getAttribute('html', 'lang')).toBe('ru');
  // switch to English on the page, then start the provider: the provider's failure page is in English too
  await page.click('header nav a[lang="en"]');
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.textContent('h1')).toBe(HEADINGS.en);
  await page.click('button[data-provider="demo-eid"]');
  await page.click('button:has-text("Simulate an outage")');
  await page.waitForSelector('p.error');
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  expect(await page.textContent('p.error')).toContain('The provider is temporarily unavailable');
  expect(problems.console).toEqual([]);
  await context.close();
});

test('cancel on the selection page returns to the service with user_cancel', async () => {
  const { context, page, problems } = await openPage(browser, demo.base);
  await toSelection(page, 'lv');
  await page.click('button:has-text("Atcelt un atgriezties pakalpojumā")');
  await page.waitForURL(/\/demo\/callback/);
  expect(new URL(page.url()).searchParams.get('error')).toBe('user_cancel');
  expect(problems.console).toEqual([]);
  await context.close();
});

test('a 320 px phone: no sideways scrolling, every provider reachable, still no violations', async () => {
  const { context, page, problems } = await openPage(browser, demo.base, { viewport: { width: 320, height: 640 } });
  await toSelection(page, 'ru');
  expect(await scrollsSideways(page)).toBe(false);
  const widths = await page.$$eval('button[data-provider]', (bs) => bs.map((b) => b.getBoundingClientRect().right));
  for (const right of widths) expect(right).toBeLessThanOrEqual(320);
  await expectClean(page, problems);
  await screenshot(page, 'selection-ru-320px');
  await context.close();
});

test('keyboard only: skip link, visible focus, a full login with Tab and Enter', async () => {
  const { context, page, problems } = await openPage(browser, demo.base);
  await toSelection(page, 'en');
  await page.keyboard.press('Tab');
  expect(await page.evaluate('document.activeElement.className')).toBe('skip');
  // the skip link is shown while focused
  expect(await page.evaluate('document.activeElement.getBoundingClientRect().left >= 0')).toBe(true);
  let focused = '';
  for (let i = 0; i < 20 && focused !== 'demo-eid'; i += 1) {
    await page.keyboard.press('Tab');
    focused = (await page.evaluate('document.activeElement.getAttribute("data-provider") || ""')) as string;
    // every focused control shows its focus
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
  }
  expect(focused).toBe('demo-eid');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/providers\/demo-eid\//);
  // the mock provider's first person, by keyboard too
  for (let i = 0; i < 20; i += 1) {
    await page.keyboard.press('Tab');
    if (((await page.evaluate('document.activeElement.textContent')) as string).includes('Jānis')) break;
  }
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/demo\/callback/);
  expect(await page.textContent('h1')).toContain('Welcome, Jānis Bērziņš');
  expect(problems.console).toEqual([]);
  await context.close();
});

test('without JavaScript: the bank hop shows a continue button that works', async () => {
  const { context, page } = await openPage(browser, demo.base, { javaScriptEnabled: false });
  await toSelection(page, 'lv');
  await page.click('button[data-provider="demo-bank"]');
  // the auto-posting form does not post itself: its button is there, in Latvian
  await page.waitForSelector('form#autopost button');
  expect(await page.textContent('form#autopost button')).toBe('Turpināt');
  await page.click('form#autopost button');
  await page.waitForURL(/\/demo\/banks\/demo-bank\//);
  await context.close();
});

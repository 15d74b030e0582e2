// The gateway refusing a browser that sends too many requests (the abuse limits, src/web/rate-limit.ts):
// a page in the browser's language in the same accessible frame, with Retry-After, never a crash; inside a
// login, the way back to the service (which hears temporarily_unavailable) and the login's reference.
import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { axeViolations, launchChromium, openPage } from '../support/chromium.ts';
import { runCli } from '../e2e/demo-suite.ts';
import { startDemo, type Demo } from './demo-process.ts';

// a real browser under a shared, busy CI machine: axe-core alone takes seconds per page
jest.setTimeout(120_000);

let demo: Demo;
let browser: Browser;

beforeAll(async () => {
  // three login-page requests per address and hour: the fourth is refused
  const extra = 'limits:\n  window_seconds: 3600\n  interaction: 3';
  // Chromium first: when it cannot start, no demo gateway is left running behind the failed set-up
  browser = await launchChromium();
  demo = await startDemo({ extra });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

test('rate-limited mid-login: a page in the browser language with the same frame, Retry-After, the way back and the reference, no accessibility violation', async () => {
  const { context, page, problems } = await openPage(browser, demo.base, { locale: 'ru-RU' });
  await page.goto(`${demo.base}/demo/login`);
  const selection = page.url();
  expect(await page.getAttribute('html', 'lang')).toBe('ru');
  let response = await page.reload();
  for (let i = 0; i < 5 && response!.status() !== 429; i += 1) response = await page.goto(selection);
  expect(response!.status()).toBe(429);
  expect(Number(response!.headers()['retry-after'])).toBeGreaterThan(0);
  expect(await page.getAttribute('html', 'lang')).toBe('ru');
  expect(await page.textContent('p.error')).toContain('С вашего адреса поступило слишком много запросов');
  expect(await page.isVisible('footer')).toBe(true);
  // the login's reference: the start of its id, which is in the page's path
  const reference = (await page.textContent('.reference code'))!;
  expect(reference).toBe(new URL(selection).pathname.split('/').pop()!.slice(0, 10));
  expect(await page.textContent('form[action$="/abort"] button')).toBe('Вернуться в э-услугу');
  expect(await axeViolations(page)).toEqual([]);
  expect(problems.console).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.foreignRequests).toEqual([]);
  // the way back is itself a login page, over the spent limit: it has a bucket of its own
  await page.click('form[action$="/abort"] button');
  await page.waitForURL(/\/demo\/callback/);
  expect(new URL(page.url()).searchParams.get('error')).toBe('temporarily_unavailable');
  const found = await runCli(['audit', 'query', 'var/audit', '--correlation', reference], demo.cwd);
  expect(found.code).toBe(0);
  expect(found.output).toContain('rate_limited');
  expect(found.output).toContain('verification_error');
  await context.close();
});

// The gateway refusing a browser that sends too many requests (the abuse limits, src/web/rate-limit.ts):
// a page in the browser's language in the same accessible frame, with Retry-After, never a crash.
import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { axeViolations, launchChromium, openPage } from '../support/chromium.ts';
import { startDemo, type Demo } from './demo-process.ts';

// a real browser under a shared, busy CI machine: axe-core alone takes seconds per page
jest.setTimeout(120_000);

let demo: Demo;
let browser: Browser;

beforeAll(async () => {
  // three login-page requests per address and hour: the fourth is refused
  const extra = 'limits:\n  window_seconds: 3600\n  interaction: 3';
  [demo, browser] = await Promise.all([startDemo({ extra }), launchChromium()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

test('rate-limited: a page in the browser language with the same frame, Retry-After, no accessibility violation', async () => {
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
  expect(await axeViolations(page)).toEqual([]);
  expect(problems.console).toEqual([]);
  expect(problems.failedRequests).toEqual([]);
  expect(problems.foreignRequests).toEqual([]);
  await context.close();
});

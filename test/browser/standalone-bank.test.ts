// The test bank run on its own beside the demo, as README's operator commands describe it: `npm run
// test-bank -- --merchant-cert ...`, its printed entry pasted at the end of config/demo.yaml and its record
// saved in the registry. A citizen logs in through it in a real browser: the bank's answer is a cross-site
// form post, which over the demo's plain http carries the SameSite=Lax browser-binding cookie only from the
// gateway's own site.
import { jest } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { standaloneBankArgs } from '../../providers/banklink/test-harness.ts';
import { launchChromium, openPage } from '../support/chromium.ts';
import { demoWithPeer, runningTestPeer } from '../support/test-peer-paste.ts';
import { startDemo, type Demo } from './demo-process.ts';

jest.setTimeout(120_000);

const peer = runningTestPeer('providers/banklink/test-bank/main.ts', standaloneBankArgs);
let demo: Demo;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  demo = await startDemo({ config: demoWithPeer(peer().dir, peer().printed, 'test-bank') });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
});

test('a login through the standalone test bank, chosen on the demo selection page, comes back verified', async () => {
  const { context, page, problems } = await openPage(browser, demo.base);
  await page.goto(`${demo.base}/`);
  await page.selectOption('select[name="lang"]', 'en');
  await page.click('button[type="submit"]');
  await page.click('button[data-provider="test-bank"]');
  await page.check('input[name="user"][value="janis"]');
  await page.click('form#login button[type="submit"]');
  await page.fill('input[name="code"]', (await page.textContent('#hint'))!);
  await page.click('form#confirm button[type="submit"]');
  await page.waitForURL(/\/demo\/callback/);
  expect(await page.textContent('h1')).toBe('Welcome, JĀNIS BĒRZIŅŠ');
  const claims = await page.$$eval('dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
  );
  expect(claims).toMatchObject({ idp: 'test-bank', personal_code: '010180-15097' });
  // (the console is left alone: the bank's own server has no favicon.ico, which Chromium reports there)
  expect(problems.failedRequests).toEqual([]);
  await context.close();
});

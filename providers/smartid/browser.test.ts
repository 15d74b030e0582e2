// A person in Chromium through `npm start`'s demo (config/demo.yaml as a real `vpm-gateway start`
// process): the demo e-service, the Smart-ID form, the waiting page's verification code, the test phone
// choosing that code, and the verified claims at the demo service. Once with scripts (the page polls),
// once without (the page refreshes itself), a refusal on the phone with and without scripts, and a QR login
// with scripts.
import { type ChildProcess, spawn } from 'node:child_process';
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CLI, NODE, root } from '../../test/e2e/demo-suite.ts';
import { freePort } from '../../test/support/free-port.ts';

// a real browser under a shared, busy CI machine, and pages without scripts that refresh themselves every
// few seconds: a refused login takes 7 s on a quiet machine and far more while the whole suite runs
jest.setTimeout(120_000);

let child: ChildProcess;
let base = '';
let cwd = '';
let browser: Browser;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  cwd = mkdtempSync(join(tmpdir(), 'vpm-smartid-demo-'));
  child = spawn(NODE, [CLI, 'start', '--config', join(root, 'config/demo.yaml')], {
    cwd,
    env: { ...process.env, PORT: String(port), ISSUER: base },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((ok, fail) => {
    const take = (d: Buffer) => {
      output += d.toString();
      if (output.includes('Open the demo e-service')) ok();
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code}: ${output}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
  }
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** From the demo e-service to the waiting page: the code the gateway shows. */
async function toWaitingPage(page: Page, code: string): Promise<string> {
  await page.goto(`${base}/demo/login?lang=en&idp=demo-smartid`);
  await page.waitForURL(/\/providers\/demo-smartid\/login/);
  await page.selectOption('select[name=country]', 'LV');
  await page.fill('input[name=code]', code);
  await page.click('button[type=submit].primary');
  await page.waitForURL(/\/providers\/demo-smartid\/wait/);
  const shown = (await page.textContent('#vc'))!.trim();
  expect(shown).toMatch(/^\d{4}$/);
  // the code's style comes from the stylesheet: an inline style would be blocked by the page's CSP
  const style = await page.$eval(
    '#vc',
    (el) =>
      (globalThis as unknown as { getComputedStyle(e: unknown): { fontWeight: string } }).getComputedStyle(el)
        .fontWeight,
  );
  expect(style).toBe('700');
  return shown;
}

/** The test phone: answers the latest waiting session with this choice. It is another device, so a
 * context of its own: a tab of the person's context would put their waiting page in the background, where
 * Chromium may hold back its refresh and its long poll. */
async function phone(choice: string): Promise<void> {
  const device = await browser.newContext();
  const tab = await device.newPage();
  await tab.goto(`${base}/demo/smart-id/phone`);
  const section = tab.locator('section[data-session]').first();
  await expect(section.locator('h2').textContent()).resolves.toBe('Jānis Bērziņš');
  // the app shows the service's name, as configured for the demo e-service
  await expect(section.textContent()).resolves.toContain('Demo e-pakalpojums');
  await section.locator(`button[value="${choice}"]`).click();
  await device.close();
}

test('with scripts: the code shown is the one the phone confirms, and the claims reach the demo service', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const shown = await toWaitingPage(page, '010180-15097');
    await phone(shown);
    await page.waitForURL(/\/demo\/callback/);
    const body = await page.textContent('body');
    expect(body).toContain('PNOLV-010180-15097');
    expect(body).toContain('Jānis');
    expect(body).toContain('smart_id');
  } finally {
    await context.close();
  }
});

test('without scripts: the waiting page refreshes itself until the phone has confirmed', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    const shown = await toWaitingPage(page, '010180-15097');
    await phone(shown);
    await page.waitForURL(/\/demo\/callback/);
    expect(await page.textContent('body')).toContain('PNOLV-010180-15097');
  } finally {
    await context.close();
  }
});

test('without scripts: not confirmed in time, the Smart-ID page says so and its button leads straight to the service (access_denied)', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(`${base}/demo/login?lang=en&idp=demo-smartid`);
    await page.fill('input[name=code]', '030403-10083');
    await page.click('button[type=submit].primary');
    await page.waitForSelector('text=The login was not confirmed in time. Please try again.');
    await page.click('a.button.primary');
    // no second page from the gateway: the service hears access_denied at once
    await page.waitForURL(/\/demo\/callback/);
    expect(await page.textContent('body')).toContain('access_denied');
  } finally {
    await context.close();
  }
});

test('without scripts: refused on the phone, the user is told so and the service gets user_cancel', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await toWaitingPage(page, '010180-15097');
    await phone('refuse');
    await page.waitForSelector('text=You refused the login in the Smart-ID app.');
    await page.click('a.button.primary');
    await page.waitForURL(/\/demo\/callback/);
    expect(await page.textContent('body')).toContain('user_cancel');
  } finally {
    await context.close();
  }
});

test("with scripts: refused on the phone, the ending page in the site's frame goes back to the service by itself", async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await toWaitingPage(page, '010180-15097');
    await phone('refuse');
    await page.waitForSelector('text=You refused the login in the Smart-ID app.');
    // the frame of the gateway's own pages: the site's name, its help desk and privacy notice
    await expect(page.textContent('header.site')).resolves.toContain('Unified login (demo)');
    await expect(page.textContent('footer.site')).resolves.toContain('palidziba@example.lv');
    await expect(page.getAttribute('footer.site a[href="/demo/privacy"]', 'href')).resolves.toBe('/demo/privacy');
    await expect(page.textContent('#auto-return')).resolves.toContain('20');
    // nothing clicked: after the site's return_after_seconds the service hears the refusal
    await page.waitForURL(/\/demo\/callback/, { timeout: 60_000 });
    expect(await page.textContent('body')).toContain('user_cancel');
  } finally {
    await context.close();
  }
});

/** The waiting page's QR image, in the browser (the tests compile without the DOM's types). */
type QrImage = { src: string; naturalWidth: number; dataset: Record<string, string> };

test('with scripts, QR: the image is reloaded under the CSP, the phone scans the current link, the claims arrive', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${base}/demo/login?lang=en&idp=demo-smartid`);
    await page.waitForURL(/\/providers\/demo-smartid\/login/);
    await page.click('button[data-flow=qr]');
    await page.waitForURL(/\/providers\/demo-smartid\/wait/);
    // the script (allowed by its nonce) redraws the code: a later image, drawn and shown
    const img = (await page.$('#qr'))!;
    await page.waitForFunction((i: QrImage) => /&s=2$/.test(i.src), img as never);
    await page.waitForFunction((i: QrImage) => i.naturalWidth > 0, img as never);
    const link = await img.evaluate(async (i: QrImage) => (await fetch(`${i.dataset.qr}&format=text`)).text());
    expect(new URL(link).searchParams.get('deviceLinkType')).toBe('QR');
    const scanned = await fetch(`${base}/demo/smart-id/control/scan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ link, action: 'confirm' }),
    });
    expect(scanned.status).toBe(204);
    await page.waitForURL(/\/demo\/callback/);
    const body = await page.textContent('body');
    expect(body).toContain('PNOLV-030303-10004');
    expect(body).toContain('smart_id');
  } finally {
    await context.close();
  }
});

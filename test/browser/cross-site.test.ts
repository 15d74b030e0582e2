// A bank on another site, as every real bank is, in a real browser: the gateway serves https on localhost,
// the test bank plain http on 127.0.0.1 (another site), and the bank's signed answer comes back as a
// cross-site form post. Only a SameSite=None cookie travels with that post, so this login completes only if
// the browser binding (src/web/browser-binding.ts) is set as it must be over https; and a browser that did
// not begin the login is still refused (test/e2e/other-browser.test.ts has the attack step by step).
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { stringify } from 'yaml';
import type { RunningTestBank } from '../../providers/banklink/test-bank/bank.ts';
import { runCli } from '../e2e/demo-suite.ts';
import { freePort } from '../support/free-port.ts';
import { testBank } from '../ops/deployment.ts';
import { GatewayProcess } from '../ops/processes.ts';
import { launchChromium, openPage } from '../support/chromium.ts';

jest.setTimeout(120_000);

let dir: string;
let bank: RunningTestBank;
let gateway: GatewayProcess;
let base: string;
let browser: Browser;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-cross-site-'));
  // every part settled before a failure is thrown: afterAll closes what started and removes the directory,
  // which a part still at work in it (certs dev) must not outlive
  const parts = await Promise.allSettled([testBank(dir), freePort(), launchChromium(), runCli(['certs', 'dev'], dir)]);
  if (parts[0].status === 'fulfilled') bank = parts[0].value.bank;
  if (parts[2].status === 'fulfilled') browser = parts[2].value;
  const value = <T>(part: PromiseSettledResult<T>): T => {
    if (part.status === 'rejected') throw part.reason;
    return part.value;
  };
  const [peer, port, , certs] = [value(parts[0]), value(parts[1]), value(parts[2]), value(parts[3])];
  expect(certs.code).toBe(0);
  base = `https://localhost:${port}`;
  expect(new URL(bank.url).hostname).toBe('127.0.0.1');
  const config = {
    issuer: base,
    port,
    server: { tls: { cert: 'certs/dev/server.pem', key: 'certs/dev/server-key.pem' } },
    store: { type: 'memory' },
    keys: { dir: 'keys' },
    demo: { enabled: true, client_id: 'demo-service' },
    clients: [
      {
        client_id: 'demo-service',
        client_name: 'Demo e-service',
        client_secret: 'cross-site-demo-service-secret',
        redirect_uris: [`${base}/demo/callback`],
      },
    ],
    providers: [peer.entry],
  };
  writeFileSync(join(dir, 'gateway.yaml'), stringify(config));
  gateway = new GatewayProcess(['start', '--config', join(dir, 'gateway.yaml')], {
    cwd: dir,
    env: { NODE_EXTRA_CA_CERTS: join(dir, 'certs/dev/ca.pem') },
  });
  await gateway.port();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop('SIGTERM');
  await bank?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** From the demo e-service to the bank's login page. */
async function toBank(page: Page): Promise<void> {
  await page.goto(`${base}/`);
  await page.click('button[type="submit"]');
  await page.click('button[data-provider="testbank"]');
  await page.waitForURL((url) => url.hostname === '127.0.0.1');
}

async function atBank(page: Page): Promise<void> {
  await page.check('input[name="user"][value="janis"]');
  await page.click('form#login button[type="submit"]');
  await page.fill('input[name="code"]', (await page.textContent('#hint'))!);
  await page.click('form#confirm button[type="submit"]');
}

test('a login through a bank on another site completes: its cross-site answer carries the browser binding', async () => {
  const { context, page } = await openPage(browser, base, { ignoreHTTPSErrors: true, locale: 'en-GB' });
  await toBank(page);
  const binding = (await context.cookies(base)).find((c) => c.name === '__Host-vpm-browser');
  expect(binding).toMatchObject({ secure: true, httpOnly: true, sameSite: 'None', path: '/' });
  const callback = page.waitForRequest((r) => r.url().startsWith(`${base}/broker/callback/testbank`));
  await atBank(page);
  // the answer is a form post from the bank's site to the gateway's
  const posted = await callback;
  expect(posted.method()).toBe('POST');
  expect((await posted.allHeaders()).cookie).toContain(`__Host-vpm-browser=${binding!.value}`);
  await page.waitForURL(/\/demo\/callback/);
  const claims = await page.$$eval('dt', (dts) =>
    Object.fromEntries(dts.map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
  );
  expect(claims.personal_code).toBe('010180-15097');
  await context.close();
});

test('the same bank answer brought by another browser: refused with the page that says why', async () => {
  const first = await openPage(browser, base, { ignoreHTTPSErrors: true, locale: 'en-GB' });
  await toBank(first.page);
  // the answer the bank would post, taken from the first browser just before it leaves the bank's site
  await first.page.route(`${base}/broker/callback/testbank`, (route) => route.abort());
  const callback = first.page.waitForRequest((r) => r.url().startsWith(`${base}/broker/callback/testbank`));
  await atBank(first.page).catch(() => {});
  const answer = new URLSearchParams((await callback).postData()!);
  // posted by another browser, as an attacker's page would make a victim's browser do
  const other = await openPage(browser, base, { ignoreHTTPSErrors: true, locale: 'en-GB' });
  await other.page.goto(bank.url);
  await other.page.setContent(
    `<form id="f" method="post" action="${base}/broker/callback/testbank">${[...answer]
      .map(([k, v]) => `<input type="hidden" name="${k}" value="${v.replaceAll('"', '&quot;')}">`)
      .join('')}</form>`,
  );
  await Promise.all([
    other.page.waitForURL(`${base}/broker/callback/testbank`),
    other.page.$eval('#f', (f) => (f as unknown as { submit(): void }).submit()),
  ]);
  expect(await other.page.textContent('main')).toContain('This login was begun in another browser');
  await Promise.all([first.context.close(), other.context.close()]);
});

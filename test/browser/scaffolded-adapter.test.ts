// A login in a real browser through an adapter kind as `providers scaffold --kind custom` writes it, with
// its own test peer on another origin: the selection page's form posts the choice to the gateway, which
// redirects to the provider, and Chromium applies the page's CSP form-action to that redirect; the peer's
// page then posts the signed answer back. The agency service gets the verified identity.
import { jest } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { launchChromium, openPage } from '../support/chromium.ts';
import { runCli } from '../support/cli.ts';
import { claimsOf, rpConfig, startGateway, type TestGateway } from '../support/gateway.ts';
import { eidOnboarding } from '../support/provider-entries.ts';

jest.setTimeout(120_000);

const SECRET = 'a-secret-shared-with-the-test-peer-0123456789';
const SERVICE_SECRET = 'service-secret-0123456789-0123456789-abcdef';
const outside = join(mkdtempSync(join(tmpdir(), 'vpm-scaffold-browser-')), 'app-confirm');
const written = await runCli(['providers', 'scaffold', '--kind', 'custom', 'app-confirm', '--dir', outside]);
if (written.code !== 0) throw new Error(`scaffold failed: ${written.stderr}`);
const { factory } = await import(join(outside, 'index.ts'));
const { startPeer } = await import(join(outside, 'test-peer.ts'));

let peer: { url: string; close(): Promise<void> };
// the agency service's redirect URI, where the browser lands with the code
const service = http.createServer((_req, res) => res.end('service'));
let serviceCallback: string;
let gateway: TestGateway;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
  peer = await startPeer(SECRET);
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  serviceCallback = `http://127.0.0.1:${(service.address() as AddressInfo).port}/cb`;
  gateway = await startGateway({
    clients: [{ client_id: 'service', client_secret: SERVICE_SECRET, redirect_uris: [serviceCallback] }],
    factories: new Map([...ADAPTER_FACTORIES, [factory.kind, factory]]),
    providers: [
      {
        id: 'app-confirm',
        type: 'app-confirm',
        name: { lv: 'Lietotne', en: 'App' },
        kind: 'eid',
        loa: 'high',
        onboarding: eidOnboarding(),
        url: peer.url,
        secret: SECRET,
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await peer?.close();
  service.close();
  rmSync(dirname(outside), { recursive: true, force: true });
});

test('a login through the scaffolded adapter and its test peer, chosen on the selection page', async () => {
  // the peer listens on another port: another origin than the gateway's, as a real provider is
  expect(new URL(peer.url).origin).not.toBe(gateway.issuer);
  const rp = await rpConfig(gateway.issuer, 'service', SERVICE_SECRET);
  const login = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
  const authorize = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: serviceCallback,
    scope: 'openid profile personal_code',
    code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
    code_challenge_method: 'S256',
    state: login.state,
    nonce: login.nonce,
  });
  const { context, page, problems } = await openPage(browser, gateway.issuer);
  await page.goto(authorize.href);
  // a form-action refusal leaves the browser on the selection page, saying why on the console only
  const refused = page
    .waitForEvent('console', (m) => m.text().includes('Content Security Policy'))
    .then((m) => Promise.reject(new Error(m.text())));
  await page.click('button[data-provider="app-confirm"]');
  await Promise.race([page.waitForURL((url) => url.href.startsWith(serviceCallback)), refused]);
  const claims = await claimsOf(rp, login, new URL(page.url()));
  expect(claims).toMatchObject({ idp: 'app-confirm', personal_code: '010180-15097', family_name: 'BĒRZIŅŠ' });
  expect(problems.console).toEqual([]);
  await context.close();
});

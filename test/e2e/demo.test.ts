// The newcomer's path: `vpm-gateway start` with config/demo.yaml, as a real child process on Node 24
// (type stripping, no build), then a person's clicks through the demo e-service: once with the demo eID,
// once with an in-process test bank (signed 4012 out, signed 3013 back, one-time code in between), once
// with the in-process test SAML IdP (signed AuthnRequest with eIDAS extensions, encrypted assertion back).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, parseAutoPost } from '../support/browser.ts';
import { mockProviderLogin } from '../support/gateway.ts';
import { parseForms } from '../../providers/banklink/test-bank/forms.ts';
import { parseForm } from '../../providers/saml/test-idp/index.ts';

const root = resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let base: string;
let cwd: string;
let output = '';

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => ok(port));
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  cwd = mkdtempSync(join(tmpdir(), 'vpm-demo-'));
  child = spawn(join(root, 'node_modules/.bin/node'), [join(root, 'bin/vpm-gateway.js'), 'start', '--config', join(root, 'config/demo.yaml')], {
    cwd,
    env: { ...process.env, PORT: String(port), ISSUER: base },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await new Promise<void>((ok, fail) => {
    const timer = setInterval(() => {
      if (output.includes('Open the demo e-service')) {
        clearInterval(timer);
        ok();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      fail(new Error(`gateway exited with ${code}: ${output}`));
    });
  });
}, 60_000);

afterAll(async () => {
  child?.kill('SIGTERM');
  await new Promise((ok) => child?.once('exit', ok));
  rmSync(cwd, { recursive: true, force: true });
});

test('it prints the URL to open, and reports ready', async () => {
  expect(output).toContain(`Open the demo e-service: ${base}/`);
  const health = await fetch(`${base}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
});

test('log in with the demo eID and see the verified claims', async () => {
  const b = new Browser();
  expect((await b.get(`${base}/`)).body).toContain('Log in');
  const selection = await b.follow(await b.get(`${base}/demo/login?lang=en`));
  expect(selection.body).toContain('data-provider="demo-eid"');
  expect(selection.body).toContain('data-provider="demo-bank"');
  expect(selection.body).toContain('data-provider="demo-legacy-bank"');
  expect(selection.body).toContain('data-provider="demo-eidas"');
  const chosen = await b.post(`${selection.url}/provider`, { provider: 'demo-eid' });
  const page = await b.follow(await mockProviderLogin(b, chosen, 0));
  expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
  expect(page.body).toContain('Welcome, Jānis Bērziņš');
  expect(page.body).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
});

test.each(['demo-bank', 'demo-legacy-bank'])('log in through the in-process test bank %s', async (bank) => {
  const b = new Browser();
  const bankPage = await b.follow(await b.get(`${base}/demo/login?lang=en&idp=${bank}`), (h) => h.status === 200 && !parseAutoPost(h.body, h.url));
  expect(bankPage.url).toBe(`${base}/demo/banks/${bank}/`);
  const login = parseForms(bankPage.body, bankPage.url).find((f) => f.id === 'login')!;
  const codePage = await b.post(login.action, { ...login.fields, user: 'janis' });
  const confirm = parseForms(codePage.body, codePage.url).find((f) => f.id === 'confirm')!;
  const page = await b.follow(await b.post(confirm.action, { ...confirm.fields, code: '123456' }));
  expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
  expect(page.body).toContain(`<dt>idp</dt><dd>${bank}</dd>`);
});

test('log in through the in-process SAML IdP', async () => {
  const b = new Browser();
  // the gateway auto-posts the signed AuthnRequest to the IdP mounted in the same process
  const idpPage = await b.follow(await b.get(`${base}/demo/login?lang=en&idp=demo-eidas`), (h) => h.status === 200 && !parseAutoPost(h.body, h.url));
  expect(idpPage.url).toBe(`${base}/demo/saml-idp/sso`);
  expect(idpPage.body).toContain('Test SAML IdP');
  const login = parseForm(idpPage.body);
  const answer = await b.post(login.action, { ...login.fields, user: '0', action: 'login' });
  // the IdP's auto-submitting answer runs under the gateway's Content-Security-Policy: its script carries the nonce
  const nonce = /'nonce-([^']+)'/.exec(answer.headers.get('content-security-policy') ?? '')?.[1];
  expect(nonce).toBeDefined();
  expect(answer.body).toContain(`<script nonce="${nonce}">`);
  const back = parseAutoPost(answer.body, answer.url)!;
  expect(back.action).toBe(`${base}/broker/callback/demo-eidas`);
  expect(Buffer.from(back.fields.SAMLResponse!, 'base64').toString()).toContain('EncryptedAssertion');
  const page = await b.follow(answer);
  expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
  expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
  expect(page.body).toContain('<dt>idp</dt><dd>demo-eidas</dd>');
  expect(page.body).toContain('<dt>acr</dt><dd>high</dd>');
});

test('the demo serves the SAML SP metadata with the broker callback as ACS', async () => {
  const res = await fetch(`${base}/providers/demo-eidas/metadata`);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain(`Location="${base}/broker/callback/demo-eidas"`);
});

test('the audit log of the demo verifies', async () => {
  const { main } = await import('../../src/cli/main.ts');
  const out: string[] = [];
  const code = await main(['audit', 'verify', join(cwd, 'var/audit')], { stdout: (s) => out.push(s), stderr: (s) => out.push(s) });
  expect(out.join('')).not.toMatch(/010180-15097/);
  expect(code).toBe(0);
});

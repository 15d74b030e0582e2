// The newcomer's path, shared by test/e2e/demo.test.ts (config/demo.yaml over http) and
// test/e2e/demo-https.test.ts (config/demo-https.yaml over https, the dev PKI): `vpm-gateway start` as a
// real child process on Node 24 (type stripping, no build), then a person's clicks through the demo
// e-service: once with the demo eID, once with each in-process test bank (signed 4012 out, signed 3013
// back, one-time code in between), once with the in-process test SAML IdP (signed AuthnRequest with eIDAS
// extensions, encrypted assertion back), and with the in-process OIDC test eID (discovery against the
// gateway's own server, PKCE, signed ID token with an eParaksts-style `serial_number`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, parseAutoPost } from '../support/browser.ts';
import { mockProviderLogin } from '../support/gateway.ts';
import { parseForms } from '../../providers/banklink/test-bank/forms.ts';
import { parseForm } from '../../providers/saml/test-idp/index.ts';
import { freePort } from '../support/free-port.ts';

export const root = resolve(import.meta.dirname, '../..');
export const NODE = join(root, 'node_modules/.bin/node');
export const CLI = join(root, 'bin/vpm-gateway.js');

export interface DemoRun {
  /** `vpm-gateway` arguments run to completion first, in the working directory (e.g. `certs dev`) */
  before?: string[][];
  /** the arguments of `vpm-gateway start` */
  start: string[];
  scheme: 'http' | 'https';
}

export interface RunningDemo {
  base: string;
  cwd: string;
  output(): string;
}

/** `vpm-gateway <args>` as a child process in `cwd` (with `env` added), to its end: exit code and output. */
export function runCli(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((ok) => {
    const child = spawn(NODE, [CLI, ...args], {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => ok({ code, output }));
  });
}

/**
 * The demo suite against a gateway started as `run` says, in a fresh working directory, on a free port
 * (PORT and ISSUER override the file's). Returns the running demo for a file's own extra tests.
 */
export function describeDemo(run: DemoRun): RunningDemo {
  let child: ChildProcess;
  let base = '';
  let cwd = '';
  let output = '';
  const demo: RunningDemo = {
    get base() {
      return base;
    },
    get cwd() {
      return cwd;
    },
    output: () => output,
  };

  beforeAll(async () => {
    const port = await freePort();
    base = `${run.scheme}://127.0.0.1:${port}`;
    cwd = mkdtempSync(join(tmpdir(), 'vpm-demo-'));
    for (const args of run.before ?? []) {
      const done = await runCli(args, cwd);
      if (done.code !== 0) throw new Error(`vpm-gateway ${args.join(' ')}: ${done.code}\n${done.output}`);
    }
    child = spawn(NODE, [CLI, ...run.start], {
      cwd,
      env: { ...process.env, PORT: String(port), ISSUER: base },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // ready when the gateway prints the demo's address: checked on each chunk of its output, not on a timer
    await new Promise<void>((ok, fail) => {
      const take = (d: Buffer) => {
        output += d.toString();
        if (output.includes('Open the demo e-service')) ok();
      };
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      child.once('exit', (code) => fail(new Error(`gateway exited with ${code}: ${output}`)));
    });
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
    }
    if (cwd) rmSync(cwd, { recursive: true, force: true });
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
    expect(selection.body).toContain('data-provider="demo-oidc-eid"');
    const chosen = await b.post(`${selection.url}/provider`, { provider: 'demo-eid' });
    const page = await b.follow(await mockProviderLogin(b, chosen, 0));
    expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
    expect(page.body).toContain('Welcome, Jānis Bērziņš');
    expect(page.body).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
    // the way out names the service, never the ID token with its personal code, and asks first
    const logout = new URL(/href="([^"]*\/session\/end[^"]*)"/.exec(page.body)![1]!.replaceAll('&amp;', '&'));
    expect(logout.searchParams.get('client_id')).toBe('demo-service');
    expect(logout.searchParams.has('id_token_hint')).toBe(false);
    const confirm = await b.get(logout.toString());
    expect(confirm.body).toContain('Do you want to log out of the unified login?');
    const form = parseForms(confirm.body, confirm.url).find((f) => f.id === 'op.logoutForm')!;
    const done = await b.follow(await b.post(form.action, { ...form.fields, logout: 'yes' }));
    expect(done.url).toBe(`${base}/`);
  });

  test.each(['demo-bank', 'demo-legacy-bank'])('log in through the in-process test bank %s', async (bank) => {
    const b = new Browser();
    const bankPage = await b.follow(
      await b.get(`${base}/demo/login?lang=en&idp=${bank}`),
      (h) => h.status === 200 && !parseAutoPost(h.body, h.url),
    );
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
    const idpPage = await b.follow(
      await b.get(`${base}/demo/login?lang=en&idp=demo-eidas`),
      (h) => h.status === 200 && !parseAutoPost(h.body, h.url),
    );
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

  test.each([
    {
      user: 'janis',
      name: 'Jānis Bērziņš',
      code: '010180-15097',
      country: 'LV',
      acr: 'high',
      upstreamAcr: 'http://eidas.europa.eu/LoA/high',
    },
    {
      user: 'anna',
      name: 'Anna Marija Kalniņa',
      code: '325035-11782',
      country: 'LV',
      acr: 'substantial',
      upstreamAcr: 'http://eidas.europa.eu/LoA/substantial',
    },
  ])(
    'log in through the in-process OIDC test eID as $user',
    async ({ user, name, code, country, acr, upstreamAcr }) => {
      const b = new Browser();
      const opPage = await b.follow(await b.get(`${base}/demo/login?lang=en&idp=demo-oidc-eid`));
      // the gateway redirected to the test eID's authorization endpoint on its own server (found by discovery)
      const authorize = b.history.find((h) => h.url.startsWith(`${base}/demo/oidc-eid/auth?`));
      expect(authorize).toBeDefined();
      const request = new URL(authorize!.url).searchParams;
      expect(request.get('client_id')).toBe('demo-gateway');
      expect(request.get('code_challenge_method')).toBe('S256');
      expect(request.get('redirect_uri')).toBe(`${base}/broker/callback/demo-oidc-eid`);
      expect(opPage.url).toMatch(new RegExp(`^${base}/demo/oidc-eid/interaction/`));
      expect(opPage.body).toContain('Test eID provider');
      const login = oidcLoginForm(opPage.body, opPage.url);
      expect(login.users).toEqual(['janis', 'anna', 'mari']);
      const page = await b.follow(await b.post(login.action, { user, acr: upstreamAcr, amr: 'smart_card' }));
      // the authorization response came back to the broker with code, state and iss (RFC 9207)
      const back = b.history.find((h) => h.url.startsWith(`${base}/broker/callback/demo-oidc-eid?`));
      expect(new URL(back!.url).searchParams.get('iss')).toBe(`${base}/demo/oidc-eid`);
      expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
      expect(page.body).toContain(`Welcome, ${name}`);
      expect(page.body).toContain(`<dt>sub</dt><dd>PNO${country}-${code}</dd>`);
      expect(page.body).toContain(`<dt>personal_code</dt><dd>${code}</dd>`);
      expect(page.body).toContain(`<dt>personal_code_country</dt><dd>${country}</dd>`);
      expect(page.body).toContain(`<dt>idp</dt><dd>demo-oidc-eid</dd>`);
      expect(page.body).toContain(`<dt>acr</dt><dd>${acr}</dd>`);
      expect(page.body).toContain('<dt>amr</dt><dd>smart_card</dd>');
    },
  );

  test('cancelling at the OIDC test eID comes back to the e-service as user_cancel', async () => {
    const b = new Browser();
    const opPage = await b.follow(await b.get(`${base}/demo/login?lang=en&idp=demo-oidc-eid`));
    const abort = /<form method="post" action="([^"]+\/abort)">/.exec(opPage.body)?.[1];
    expect(abort).toBeDefined();
    const page = await b.follow(await b.post(new URL(abort!, opPage.url).toString(), { error: 'user_cancel' }));
    expect(page.url).toMatch(new RegExp(`^${base}/demo/callback`));
    expect(page.body).toContain('<code>user_cancel</code>');
  });

  test('the demo serves the SAML SP metadata with the broker callback as ACS', async () => {
    const res = await fetch(`${base}/providers/demo-eidas/metadata`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`Location="${base}/broker/callback/demo-eidas"`);
  });

  test('the audit log of the demo verifies', async () => {
    const { main } = await import('../../src/cli/main.ts');
    const out: string[] = [];
    const code = await main(['audit', 'verify', join(cwd, 'var/audit')], {
      stdout: (s) => out.push(s),
      stderr: (s) => out.push(s),
    });
    expect(out.join('')).not.toMatch(/010180-15097/);
    expect(code).toBe(0);
  });

  return demo;
}

/** The OIDC test eID's login form: its action and the people it offers. */
export function oidcLoginForm(body: string, base: string): { action: string; users: string[] } {
  const form = /<form method="post" action="([^"]+\/login)">([\s\S]*?)<\/form>/.exec(body);
  if (!form) throw new Error(`no login form on the OIDC test eID page: ${body.slice(0, 300)}`);
  const people = /<select name="user">([\s\S]*?)<\/select>/.exec(form[2]!)?.[1] ?? '';
  return {
    action: new URL(form[1]!, base).toString(),
    users: [...people.matchAll(/<option value="([^"]+)">/g)].map((m) => m[1]!),
  };
}

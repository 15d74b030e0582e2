// examples/apache-mod-auth-openidc against the demo gateway over HTTPS: a private Debian apache2 (own
// ServerRoot, port, pid file and runtime folder in a temporary folder, in the foreground) runs the
// example's site file unchanged with mod_auth_openidc, validating the gateway's certificate against the
// development CA (OIDCSSLValidateServer On). A person logs in with the mock eID and with the test bank,
// logs out (the stored ID token as id_token_hint), and cancels once: user_cancel reaches the module as
// an error (the client is registered with authorization_error_iss: false, nothing rewritten in Apache)
// and ends on the example's error page, with no new login. Two variants of the site file, each in its
// own run of the same Apache set-up, log in with the module's usual OIDCScope "openid email profile" and
// with OIDCProviderAuthRequestMethod POST.
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Browser,
  authorizationRequest,
  authorizationRequests,
  cancel,
  confirmLogout,
  loginWithDemoBank,
  loginWithMockEid,
  root,
  settle,
  startProcess,
  printLogs,
  type Child,
  type Hop,
} from './support.ts';
import { exampleServiceRun } from './service-run.ts';

const APACHE = '/usr/sbin/apache2';
const MODULES = '/usr/lib/apache2/modules';
const missing = [APACHE, join(MODULES, 'mod_auth_openidc.so')].filter((f) => !existsSync(f));
const describeIfApache = missing.length ? describe.skip : describe;
if (missing.length)
  console.warn(
    `skipping examples/apache-mod-auth-openidc: ${missing.join(', ')} missing (apt-get install apache2 libapache2-mod-auth-openidc)`,
  );

/** The Debian modules the example needs (a2enmod auth_openidc include env, plus Debian's defaults). */
const LOAD = ['mpm_event', 'authz_core', 'authz_user', 'authn_core', 'mime', 'dir', 'env', 'include', 'auth_openidc'];

const SITE = 'vpm-example-site.conf';

/** The site file with one line replaced (or added after it); fails when the line is not there. */
function siteVariant(site: string, line: string, replacement: string): string {
  if (!site.includes(`\n    ${line}\n`)) throw new Error(`${SITE} has no line "${line}"`);
  return site.replace(`\n    ${line}\n`, `\n    ${replacement}\n`);
}

/**
 * mod_auth_openidc's page for OIDCProviderAuthRequestMethod POST: a form with the authorization request
 * as hidden fields, submitted by the page's onload script. Submitted here as a browser would.
 */
async function submitModuleForm(b: Browser, page: Hop): Promise<Hop> {
  expect(page.body).toContain('document.forms[0].submit');
  const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(page.body);
  if (!form) throw new Error(`no authorization request form: ${page.status} ${page.body.slice(0, 300)}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g))
    fields[m[1]!] = m[2]!
      .replaceAll('&quot;', '"')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&amp;', '&');
  return settle(b, await b.post(form[1]!.replaceAll('&amp;', '&'), fields));
}

/** Logged in with the mock eID: back on the protected page, which greets its first test person. */
function expectWelcomed(page: Hop, rpBase: string): void {
  expect(page.url).toBe(`${rpBase}/protected/`);
  expect(page.status).toBe(200);
  expect(page.body).toContain('Welcome, Jānis Bērziņš');
}

describeIfApache('examples/apache-mod-auth-openidc (Debian apache2 + mod_auth_openidc)', () => {
  const run = exampleServiceRun((gateway) => {
    const serverRoot = mkdtempSync(join(tmpdir(), 'vpm-apache-'));
    // Run as root, Apache serves requests as www-data: the example (site file unchanged, pages, error
    // template) is copied where that user can read it, as one would install it under /srv. The CA bundle
    // is certs/dev/ca.pem where `certs dev` wrote it (0644 in a 0755 folder), in the gateway's working
    // directory, opened to others as a checkout under /srv or a home folder would be.
    chmodSync(serverRoot, 0o755);
    chmodSync(gateway.dir, 0o755);
    const example = join(serverRoot, 'example');
    cpSync(join(root, 'examples/apache-mod-auth-openidc'), example, { recursive: true });
    mkdirSync(join(serverRoot, 'run'));
    return {
      rpBase: `http://127.0.0.1:${gateway.ports.apache}`,
      serverRoot,
      example,
      ca: gateway.caFile,
      cleanup: () => rmSync(serverRoot, { recursive: true, force: true }),
    };
  });

  /**
   * A private apache2 on the example's port with the given site file (in the example's folder), until
   * stopped. Every run uses the same port, hence the same registered redirect URI.
   */
  async function startApache(siteFile: string): Promise<Child> {
    const { gateway, serverRoot, example, ca, rpBase } = run;
    const asRoot = process.getuid?.() === 0;
    const conf = join(serverRoot, 'apache2.conf');
    writeFileSync(
      conf,
      [
        `ServerRoot ${serverRoot}`,
        `ServerName 127.0.0.1`,
        `Listen 127.0.0.1:${gateway.ports.apache}`,
        `PidFile ${serverRoot}/run/apache2.pid`,
        `DefaultRuntimeDir ${serverRoot}/run`,
        'ErrorLog "|/bin/cat"',
        'LogLevel notice auth_openidc:info',
        ...(asRoot ? ['User www-data', 'Group www-data'] : []),
        ...LOAD.map((m) => `LoadModule ${m}_module ${MODULES}/mod_${m}.so`),
        'TypesConfig /etc/mime.types',
        `Define VPM_LISTEN 127.0.0.1:${gateway.ports.apache}`,
        `Define VPM_SERVICE_URL ${rpBase}`,
        `Define VPM_ISSUER ${gateway.issuer}`,
        'Define VPM_CLIENT_ID example-apache',
        'Define VPM_CLIENT_SECRET example-apache-secret-not-for-production',
        `Define VPM_CA_BUNDLE ${ca}`,
        'Define VPM_CRYPTO_PASSPHRASE example-passphrase-0123456789-abcdefghij',
        `Define VPM_EXAMPLE_DIR ${example}`,
        `Include ${join(example, siteFile)}`,
        '',
      ].join('\n'),
    );
    // -DFOREGROUND: Debian's apache2 with its usual processes, the parent in the foreground (SIGTERM stops
    // them all); the error log goes through a piped `cat` to the test, which waits for "resuming normal operations"
    const apache = startProcess(APACHE, ['-f', conf, '-DFOREGROUND'], {
      cwd: serverRoot,
      ready: 'resuming normal operations',
      what: 'apache2',
    });
    await apache.ready;
    return apache;
  }

  /** Writes a variant of the example's site file next to it (same folder, same pages). */
  function writeSiteVariant(name: string, change: (site: string) => string): string {
    const file = `vpm-example-site.${name}.conf`;
    writeFileSync(join(run.example, file), change(readFileSync(join(run.example, SITE), 'utf8')));
    return file;
  }

  /** For the tests of the enclosing describe: apache2 with the site file `siteFile()` returns (writing it if need be). */
  function apacheDuring(siteFile: () => string): void {
    let apache: Child | undefined;
    beforeAll(async () => {
      apache = await startApache(siteFile());
    }, 60_000);
    afterAll(async () => {
      printLogs(apache);
      await apache?.stop();
    });
  }

  describe(`${SITE} as it is`, () => {
    apacheDuring(() => SITE);

    test('log in with the mock eID over https (OIDCSSLValidateServer On): the protected page shows the verified claims', async () => {
      const { gateway, rpBase } = run;
      const b = new Browser();
      expect((await b.get(`${rpBase}/`)).body).toContain('href="/protected/"');
      const selection = await settle(b, await b.get(`${rpBase}/protected/`));
      const auth = authorizationRequest(b, gateway.issuer);
      expect(auth.get('client_id')).toBe('example-apache');
      expect(auth.get('code_challenge_method')).toBe('S256');
      expect(auth.get('scope')).toBe('openid profile personal_code');
      expect(auth.get('nonce')).toBeTruthy();
      const page = await loginWithMockEid(b, selection);
      // a successful authorization response keeps RFC 9207 iss (authorization_error_iss: false is for errors only)
      const response = b.history.find((h) => h.url.startsWith(`${rpBase}/protected/redirect_uri?`))!;
      expect(new URL(response.url).searchParams.get('code')).toBeTruthy();
      expect(new URL(response.url).searchParams.get('iss')).toBe(gateway.issuer);
      expectWelcomed(page, rpBase);
      expect(page.body).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
      expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
      expect(page.body).toContain('<dt>idp</dt><dd>demo-eid</dd>');
      expect(page.body).toContain('<dt>acr</dt><dd>high</dd>');
      expect(page.body).toContain(`<dt>iss</dt><dd>${gateway.issuer}</dd>`);
      expect(page.body).toContain('<dt>aud</dt><dd>example-apache</dd>');
    });

    test('log in through the test bank demo-bank, then log out with the stored ID token as id_token_hint', async () => {
      const { gateway, rpBase } = run;
      const b = new Browser();
      const selection = await settle(b, await b.get(`${rpBase}/protected/`));
      const page = await loginWithDemoBank(b, selection);
      expect(page.url).toBe(`${rpBase}/protected/`);
      expect(page.body).toContain('<dt>idp</dt><dd>demo-bank</dd>');
      expect(page.body).toContain('<dt>acr</dt><dd>substantial</dd>');
      expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');

      const logout = /<a id="logout" href="([^"]+)"/.exec(page.body)![1]!;
      const confirm = await settle(b, await b.get(new URL(logout, rpBase).toString()));
      const endSession = new URL(confirm.url);
      expect(endSession.pathname).toBe('/session/end');
      expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${rpBase}/`);
      const out = await confirmLogout(b, confirm);
      expect(out.url).toBe(`${rpBase}/`);
      // the module's session is gone: the protected page asks for a login again
      const again = await b.get(`${rpBase}/protected/`);
      expect(again.location).toMatch(new RegExp(`^${gateway.issuer}/auth\\?`));
    });

    test('cancel reaches mod_auth_openidc 2.4.12 as user_cancel without any iss rewrite in the site (authorization_error_iss: false): the error page, once, no loop', async () => {
      const { gateway, rpBase } = run;
      const b = new Browser();
      const selection = await settle(b, await b.get(`${rpBase}/protected/`));
      const page = await cancel(b, selection);
      // the error response as the module received it, straight from the gateway: no iss for this client
      const response = b.history.find((h) => h.url.startsWith(`${rpBase}/protected/redirect_uri?`))!;
      const params = new URL(response.url).searchParams;
      expect(params.get('error')).toBe('user_cancel');
      expect(params.get('state')).toBeTruthy();
      expect(params.has('iss')).toBe(false);
      expect(page.url).toBe(response.url);
      expect(page.body).toContain('<h1>Login failed</h1>');
      expect(page.body).toMatch(/<code id="error">[^<]*user_cancel[^<]*<\/code>/);
      expect(page.body).not.toContain('target_link_uri');
      expect(authorizationRequests(b, gateway.issuer)).toBe(1);
    });
  });

  describe('OIDCScope "openid email profile" (the module\'s usual scopes)', () => {
    apacheDuring(() =>
      writeSiteVariant('email', (s) =>
        siteVariant(s, 'OIDCScope "openid profile personal_code"', 'OIDCScope "openid email profile"'),
      ),
    );

    test('logs in with the mock eID: email is ignored, the profile claims arrive, personal_code (not asked for) does not', async () => {
      const { gateway, rpBase } = run;
      const b = new Browser();
      const selection = await settle(b, await b.get(`${rpBase}/protected/`));
      const auth = authorizationRequest(b, gateway.issuer);
      expect(auth.get('scope')).toBe('openid email profile');
      expect(selection.body).toContain('data-provider="demo-eid"');
      const page = await loginWithMockEid(b, selection);
      expectWelcomed(page, rpBase);
      expect(page.body).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
      expect(page.body).toContain('<dt>acr</dt><dd>high</dd>');
      expect(page.body).toContain('<dt>personal_code</dt><dd>(none)</dd>');
      expect(authorizationRequests(b, gateway.issuer)).toBe(1);
    });
  });

  describe('OIDCProviderAuthRequestMethod POST', () => {
    apacheDuring(() =>
      writeSiteVariant('post', (s) =>
        siteVariant(s, 'OIDCPKCEMethod S256', 'OIDCPKCEMethod S256\n    OIDCProviderAuthRequestMethod POST'),
      ),
    );

    test('logs in with the mock eID: the authorization request is a form POST to the authorization endpoint', async () => {
      const { gateway, rpBase } = run;
      const b = new Browser();
      const formPage = await settle(b, await b.get(`${rpBase}/protected/`));
      expect(formPage.url).toBe(`${rpBase}/protected/`);
      const selection = await submitModuleForm(b, formPage);
      // one authorization request, by POST (no query), none by GET
      expect(b.history.filter((h) => h.url === `${gateway.issuer}/auth`)).toHaveLength(1);
      expect(b.history.some((h) => h.url.startsWith(`${gateway.issuer}/auth?`))).toBe(false);
      const page = await loginWithMockEid(b, selection);
      expectWelcomed(page, rpBase);
      expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
      expect(page.body).toContain('<dt>idp</dt><dd>demo-eid</dd>');
    });
  });

  test('the site trusts certs/dev/ca.pem in place, without copying it: certs dev leaves it readable by www-data, its keys 0600', async () => {
    const { gateway, serverRoot, ca, rpBase } = run;
    const mode = (f: string) => statSync(f).mode & 0o777;
    expect(ca).toBe(join(gateway.dir, 'certs/dev/ca.pem'));
    expect(mode(join(gateway.dir, 'certs/dev'))).toBe(0o755);
    expect(mode(ca)).toBe(0o644);
    expect(mode(join(gateway.dir, 'certs/dev/ca-key.pem'))).toBe(0o600);
    expect(mode(join(gateway.dir, 'certs/dev/server-key.pem'))).toBe(0o600);
    // every Apache run of this file validates the gateway's certificate against this very file (VPM_CA_BUNDLE)
    const apache = await startApache(SITE);
    try {
      expect(readFileSync(join(serverRoot, 'apache2.conf'), 'utf8')).toContain(`Define VPM_CA_BUNDLE ${ca}\n`);
      const b = new Browser();
      const page = await loginWithMockEid(b, await settle(b, await b.get(`${rpBase}/protected/`)));
      expect(page.url).toBe(`${rpBase}/protected/`);
      expect(page.body).toContain('<dt>idp</dt><dd>demo-eid</dd>');
    } finally {
      printLogs(apache);
      await apache.stop();
    }
  }, 60_000);
});

// examples/apache-mod-auth-openidc against the demo gateway over HTTPS: a private Debian apache2 (own
// ServerRoot, port, pid file and runtime folder in a temporary folder, in the foreground) runs the
// example's site file unchanged with mod_auth_openidc, validating the gateway's certificate against the
// development CA (OIDCSSLValidateServer On). A person logs in with the mock eID and with the test bank,
// logs out (the stored ID token as id_token_hint), and cancels once: user_cancel reaches the module as
// an error (the client is registered with authorization_error_iss: false, nothing rewritten in Apache)
// and ends on the example's error page, with no new login. Two variants of the site file, each in its
// own run of the same Apache set-up, log in with the module's usual OIDCScope "openid email profile" and
// with OIDCProviderAuthRequestMethod POST.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Browser,
  authorizationRequest,
  authorizationRequests,
  cancel,
  confirmLogout,
  loginWithDemoBank,
  loginWithMockEid,
  settle,
  printLogs,
} from './support.ts';
import { SITE, describeIfApache, expectWelcomed, siteVariant, submitModuleForm, useApacheSite } from './apache-site.ts';

describeIfApache('examples/apache-mod-auth-openidc (Debian apache2 + mod_auth_openidc)', () => {
  const { run, startApache, writeSiteVariant, apacheDuring } = useApacheSite();

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

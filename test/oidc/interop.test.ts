// What agency services' software meets first: the standards points found by running
// mod_auth_openidc 2.4.12, Authlib and go-oidc against the demo, each driven over real HTTP against the
// whole gateway. openid-client plays the well-behaved service; requests a library would not send are raw
// (./interop-gateway.ts).
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { Browser } from '../support/browser.ts';
import {
  rpConfig,
  beginLogin,
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_SECRET,
} from '../support/gateway.ts';
import {
  interop,
  useInteropGateway,
  basic,
  tokenRequest,
  loginAndExchange,
  codeForm,
  rpParams,
  authorizationForm,
  POST_SECRET,
} from './interop-gateway.ts';

useInteropGateway();

describe('RFC 9207 iss in authorization responses, and the per-client exception for mod_auth_openidc 2.4.12', () => {
  test('by default an error (the user cancels) carries iss, as does a code', async () => {
    const cancelled = await loginThroughMock(interop.rp, {}, 'cancel');
    expect(cancelled.callback!.searchParams.get('error')).toBe('user_cancel');
    expect(cancelled.callback!.searchParams.get('iss')).toBe(interop.gw.issuer);
    const ok = await loginThroughMock(interop.rp);
    expect(ok.callback!.searchParams.get('iss')).toBe(interop.gw.issuer);
  });

  test('authorization_error_iss: false: the cancel comes back as an error with state and without iss; a code keeps iss', async () => {
    const cancelled = await loginThroughMock(interop.apache, {}, 'cancel');
    const q = cancelled.callback!.searchParams;
    expect(q.get('error')).toBe('user_cancel');
    expect(q.get('state')).toBe(cancelled.state);
    expect(q.has('iss')).toBe(false);
    const { tokens, login } = await loginAndExchange(interop.apache);
    expect(login.callback!.searchParams.get('iss')).toBe(interop.gw.issuer);
    expect(tokens.claims()!.aud).toBe('rp-apache');
  });

  test('authorization_error_iss: false: errors at the authorization endpoint, in every response mode, carry no iss', async () => {
    for (const response_mode of ['query', 'fragment']) {
      const started = await beginLogin(interop.apache, { prompt: 'select_account', response_mode });
      const q = rpParams(started.hop);
      expect(q.get('error')).toBe('invalid_request');
      expect(q.has('iss')).toBe(false);
    }
    const posted = await beginLogin(interop.apache, { prompt: 'select_account', response_mode: 'form_post' });
    expect(posted.hop.body).toMatch(/name="error" value="invalid_request"/);
    expect(posted.hop.body).not.toMatch(/name="iss"/);
    // the default client keeps iss in the same errors
    const defaultPosted = await beginLogin(interop.rp, { prompt: 'select_account', response_mode: 'form_post' });
    expect(defaultPosted.hop.body).toMatch(/name="iss"/);
  });
});

describe('scope values', () => {
  test('unknown values (mod_auth_openidc: openid email profile) are ignored: the login completes with what is known', async () => {
    const { tokens } = await loginAndExchange(interop.rp, { scope: 'openid email profile' });
    expect(tokens.scope?.split(' ').sort()).toEqual(['openid', 'profile']);
    expect(tokens.claims()).toMatchObject({ given_name: 'Jānis', family_name: 'Bērziņš' });
    expect(tokens.claims()).not.toHaveProperty('email');
  });

  test('offline_access is ignored (with prompt=consent too): no refresh token', async () => {
    const { tokens } = await loginAndExchange(interop.rp, { scope: 'openid offline_access', prompt: 'consent' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(tokens.scope).toBe('openid');
  });

  test('each unknown value is logged once per client and value, not per request', async () => {
    const seen = () =>
      interop.gw.logLines.filter((l) => l.includes('unknown scope value ignored') && l.includes('phone'));
    for (let i = 0; i < 2; i += 1) {
      const started = await beginLogin(interop.rp, { scope: 'openid phone' });
      expect(started.hop.location).toContain('/interaction/');
    }
    expect(seen()).toHaveLength(1);
    expect(seen()[0]).toContain('"client_id":"rp"');
    await beginLogin(interop.apache, { scope: 'openid phone' });
    expect(seen()).toHaveLength(2);
  });

  test('a scope without openid is still refused', async () => {
    const started = await beginLogin(interop.rp, { scope: 'profile email', nonce: '' });
    expect(rpParams(started.hop).get('error')).toBe('invalid_scope');
  });
});

describe('the authorization endpoint by POST (OpenID Connect Core 3.1.2.1)', () => {
  test('a form-serialized POST starts the same login as a GET, through to the tokens', async () => {
    const { form, verifier } = await authorizationForm();
    const browser = new Browser();
    const first = await browser.post(`${interop.gw.issuer}/auth`, form);
    expect(first.status).toBe(303);
    expect(first.location).toContain('/interaction/');
    const page = await browser.follow(first, (h) => h.status === 200);
    const authorize = await chooseProvider(browser, page.url, 'mock-eid');
    const final = await browser.follow(await mockProviderLogin(browser, authorize, 0), atRp);
    const tokens = await oidc.authorizationCodeGrant(interop.rp, new URL(final.location!), {
      pkceCodeVerifier: verifier,
      expectedState: form.state,
      expectedNonce: form.nonce,
      idTokenExpected: true,
    });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('a POST with an error is answered at the redirect_uri like a GET', async () => {
    const { form } = await authorizationForm({ state: 'short' });
    const q = rpParams(await new Browser().post(`${interop.gw.issuer}/auth`, form));
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('code')).toBeNull();
  });
});

describe('token endpoint (RFC 6749 5.1, 5.2)', () => {
  test('no client authentication at all: 401 invalid_client with a Basic challenge', async () => {
    const res = await tokenRequest(await codeForm());
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
  });

  test('token responses carry Cache-Control: no-store and Pragma: no-cache', async () => {
    const res = await tokenRequest(await codeForm(), { authorization: basic('rp', RP_SECRET) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
  });

  test('only the registered method: a client_secret_basic client sending its secret in the body is invalid_client', async () => {
    const refused = await tokenRequest({ ...(await codeForm()), client_id: 'rp', client_secret: RP_SECRET });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect((await tokenRequest(await codeForm(), { authorization: basic('rp', RP_SECRET) })).status).toBe(200);
  });

  test('only the registered method: a client_secret_post client sending its secret by Basic is invalid_client', async () => {
    const config = await rpConfig(interop.gw.issuer, 'rp-post', POST_SECRET, oidc.ClientSecretPost(POST_SECRET));
    const refused = await tokenRequest(await codeForm(config), { authorization: basic('rp-post', POST_SECRET) });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    const ok = await tokenRequest({ ...(await codeForm(config)), client_id: 'rp-post', client_secret: POST_SECRET });
    expect(ok.status).toBe(200);
  });
});

/** The claims table of README "What an agency service gets": scope -> claim names (second column). */
function readmeClaimsTable(): Map<string, string[]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## What an agency service gets'));
  const table = new Map<string, string[]>();
  for (const m of section.slice(0, section.indexOf('\n## ')).matchAll(/^\s*\| `(\w+)`\s*\|([^|]*)\|/gm))
    table.set(
      m[1]!,
      [...m[2]!.matchAll(/`(\w+)`/g)].map((c) => c[1]!),
    );
  return table;
}

describe('README claims table, discovery and what the endpoints return agree', () => {
  const table = readmeClaimsTable();
  let meta: Record<string, unknown>;
  beforeAll(async () => {
    meta = (await (await fetch(`${interop.gw.issuer}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
  });
  /** claims every ID token carries that are about the token, not the person */
  const TOKEN_CLAIMS = ['iss', 'aud', 'exp', 'iat', 'nonce', 'at_hash', 'sid', 'azp', 'jti'];

  test('the table is there: openid, profile, personal_code', () => {
    expect([...table.keys()]).toEqual(['openid', 'profile', 'personal_code']);
    expect(table.get('openid')).toEqual(expect.arrayContaining(['sub', 'acr', 'amr', 'auth_time']));
  });

  test('discovery: the same scopes, every claim of the table, and ui_locales_supported', () => {
    expect(meta.scopes_supported).toEqual([...table.keys()]);
    expect(meta.claims_supported).toEqual(expect.arrayContaining([...table.values()].flat()));
    expect(meta.ui_locales_supported).toEqual(['lv', 'en', 'ru']);
    // RFC 8414 2: without them a service must assume client_secret_basic alone at revocation
    expect(meta.revocation_endpoint_auth_methods_supported).toEqual(meta.token_endpoint_auth_methods_supported);
    expect(meta.revocation_endpoint_auth_signing_alg_values_supported).toEqual(
      meta.token_endpoint_auth_signing_alg_values_supported,
    );
  });

  test('discovery advertises no claim that neither the ID token nor userinfo ever carries', async () => {
    // every scope, so every claim the gateway has is released
    const { tokens } = await loginAndExchange(interop.rp, { scope: [...table.keys()].join(' ') });
    const idToken = decodeJwt(tokens.id_token!);
    const userinfo = await oidc.fetchUserInfo(interop.rp, tokens.access_token, idToken.sub!);
    const released = new Set([...Object.keys(idToken), ...Object.keys(userinfo)]);
    expect((meta.claims_supported as string[]).filter((c) => !released.has(c))).toEqual([]);
  });

  test.each([['openid'], ['openid profile'], ['openid personal_code'], ['openid profile personal_code']])(
    'scope %s: the ID token and userinfo each release exactly the table rows asked for',
    async (scope) => {
      const { tokens } = await loginAndExchange(interop.rp, { scope });
      const expected = scope.split(' ').flatMap((s) => table.get(s)!);
      const idToken = decodeJwt(tokens.id_token!);
      expect(
        Object.keys(idToken)
          .filter((k) => !TOKEN_CLAIMS.includes(k))
          .sort(),
      ).toEqual([...expected].sort());
      const userinfo = await oidc.fetchUserInfo(interop.rp, tokens.access_token, idToken.sub!);
      expect(Object.keys(userinfo).sort()).toEqual([...expected].sort());
      // the same login in both
      for (const claim of expected) expect(userinfo[claim]).toEqual(idToken[claim]);
    },
  );
});

describe('README notes for relying-party software', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  test('go-oidc, Authlib, mod_auth_openidc (with its version) and the names are covered', () => {
    const notes = readme.slice(
      readme.indexOf('### Notes for relying-party software'),
      readme.indexOf('## Configuration'),
    );
    for (const needed of [
      /go-oidc[^\n]*verifies `RS256` only/,
      /SupportedSigningAlgs/,
      /Authlib[^\n]*PKCE/,
      /code_challenge_method='S256'/,
      /mod_auth_openidc 2\.4\.12/,
      /authorization_error_iss: false/,
      /client-cookie:store_id_token/,
    ])
      expect(notes.match(needed)?.[0]).toBeTruthy();
    expect(readme.includes('Case is **not** changed')).toBe(true);
  });
});

// The authorization request's response_type, method, nonce, scope, prompt and max_age, held to the OpenID
// Foundation conformance plans' OP checks and to how TARA shapes requests and errors (./oidc-checklist-kit.ts).
import * as oidc from 'openid-client';
import { Browser } from '../support/browser.ts';
import { rpConfig, beginLogin, loginThroughMock, RP_REDIRECT } from '../support/gateway.ts';
import {
  useChecklistGateway,
  describeLogsFreeOfSecrets,
  exchange,
  loginAndExchange,
  rpParams,
  rawAuthorize,
  LIMITED_SECRET,
} from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();

describe('authorization request', () => {
  test('missing response_type: invalid_request, never a code', async () => {
    const hop = await rawAuthorize({ response_type: undefined });
    const q = rpParams(hop);
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('error_description')).toMatch(/response_type/);
    expect(q.get('code')).toBeNull();
  });

  test.each(['token', 'id_token', 'code id_token', 'none'])(
    'response_type=%s: unsupported_response_type',
    async (responseType) => {
      const hop = await rawAuthorize({ response_type: responseType });
      // an implicit or hybrid type must not fall back to the fragment with tokens in it
      const url = new URL(hop.location!);
      const q = url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
      expect(q.get('error')).toBe('unsupported_response_type');
      expect(q.get('code')).toBeNull();
      expect(q.get('id_token')).toBeNull();
    },
  );

  // OpenID Connect Core 3.1.2.1: GET and POST (src/oidc/interop.ts; the full login by POST is in
  // test/oidc/interop.test.ts).
  test('the authorization request by POST is served like the GET', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const form = {
      client_id: 'rp',
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid profile',
      state: oidc.randomState(),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    const hop = await new Browser().post(`${gw.issuer}/auth`, form);
    expect(hop.status).toBe(303);
    expect(hop.location).toContain('/interaction/');
  });

  test('a request without nonce is fine for the code flow', async () => {
    const login = await loginThroughMock(gw.rp, { nonce: '' });
    const tokens = await exchange(gw.rp, { ...login, nonce: undefined }, login.callback!);
    expect(tokens.claims()).not.toHaveProperty('nonce');
  });

  test('scopes in any order', async () => {
    const { tokens } = await loginAndExchange(gw.rp, { scope: 'personal_code profile openid' });
    expect(tokens.claims()).toMatchObject({
      personal_code: '010180-15097',
      given_name: 'Jānis',
      family_name: 'Bērziņš',
    });
  });

  test('unknown parameters are ignored', async () => {
    const { tokens } = await loginAndExchange(gw.rp, { foo: 'bar', vendor_x: '1', display: 'page' });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  // OpenID Connect Core 3.1.2.1: scope values the gateway does not know are ignored (the token response's
  // scope lists what was granted: test/oidc/interop.test.ts), offline_access included.
  test.each(['openid email', 'openid profile phone', 'openid offline_access'])(
    'unknown scope (%s): ignored, the login goes on',
    async (scope) => {
      const hop = await rawAuthorize({ scope });
      expect(hop.status).toBe(303);
      expect(hop.location).toContain('/interaction/');
    },
  );

  test('scope without openid: an error, never a plain OAuth code (this is an OpenID Connect service)', async () => {
    const q = rpParams(await rawAuthorize({ scope: 'profile', nonce: undefined }));
    expect(q.get('error')).toBe('invalid_scope');
    expect(q.get('error_description')).toMatch(/openid/);
    // with a nonce the engine already refuses it
    const withNonce = rpParams(await rawAuthorize({ scope: 'profile' }));
    expect(withNonce.get('error')).toBe('invalid_request');
    expect(withNonce.get('error_description')).toMatch(/openid/);
    expect(rpParams(await rawAuthorize({ scope: undefined, nonce: undefined })).get('error')).toMatch(
      /^invalid_(scope|request)$/,
    );
  });

  test('a scope the service is not registered for: invalid_scope', async () => {
    const limited = await rpConfig(gw.issuer, 'rp-limited', LIMITED_SECRET);
    const started = await beginLogin(limited, { scope: 'openid personal_code' });
    expect(rpParams(started.hop).get('error')).toBe('invalid_scope');
    const ok = await beginLogin(limited, { scope: 'openid profile' });
    expect(ok.hop.location).toContain('/interaction/');
  });

  test('prompt=login is honoured (a fresh authentication, as always)', async () => {
    const { tokens } = await loginAndExchange(gw.rp, { prompt: 'login' });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('prompt=consent completes without a consent screen (registered services get consent automatically)', async () => {
    const { tokens } = await loginAndExchange(gw.rp, { prompt: 'consent' });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('prompt=select_account is not supported: invalid_request', async () => {
    expect(rpParams(await rawAuthorize({ prompt: 'select_account' })).get('error')).toBe('invalid_request');
  });

  test('prompt=none without a session: login_required', async () => {
    const q = rpParams(await rawAuthorize({ prompt: 'none', state: 'state-prompt-none-1' }));
    expect(q.get('error')).toBe('login_required');
    expect(q.get('state')).toBe('state-prompt-none-1');
  });

  test('prompt=none right after a login in the same browser: login_required (every request authenticates afresh)', async () => {
    const login = await loginThroughMock(gw.rp);
    await exchange(gw.rp, login, login.callback!);
    const again = await beginLogin(gw.rp, { prompt: 'none' }, login.browser);
    expect(rpParams(again.hop).get('error')).toBe('login_required');
  });

  test('a second request in the same browser goes to the provider again', async () => {
    const login = await loginThroughMock(gw.rp);
    await exchange(gw.rp, login, login.callback!);
    const again = await beginLogin(gw.rp, {}, login.browser);
    expect(again.hop.location).toContain('/interaction/');
  });

  test('prompt=none together with another value: invalid_request', async () => {
    expect(rpParams(await rawAuthorize({ prompt: 'none login' })).get('error')).toBe('invalid_request');
  });

  test('max_age: auth_time is returned and within it', async () => {
    const login = await loginThroughMock(gw.rp, { max_age: '300' });
    const tokens = await exchange(gw.rp, login, login.callback!, { maxAge: 300 });
    expect(typeof tokens.claims()!.auth_time).toBe('number');
  });

  test('max_age that is not a whole number: invalid_request', async () => {
    expect(rpParams(await rawAuthorize({ max_age: 'soon' })).get('error')).toBe('invalid_request');
    expect(rpParams(await rawAuthorize({ max_age: '-1' })).get('error')).toBe('invalid_request');
  });

  test('max_age=0 still completes with a fresh authentication', async () => {
    const before = Math.floor(Date.now() / 1000);
    const login = await loginThroughMock(gw.rp, { max_age: '0' });
    const tokens = await exchange(gw.rp, login, login.callback!);
    expect(tokens.claims()!.auth_time).toBeGreaterThanOrEqual(before - 1);
  });
});

describeLogsFreeOfSecrets(() => [gw.logLines]);

// The gateway's OpenID provider side held to what trusted systems test: the OpenID Foundation conformance
// plans' OP checks, the FAPI 2.0 additions that apply here, and how Estonia's state authentication service
// (TARA) shapes requests and errors. openid-client plays the agency service over real HTTP; negative cases
// that a conforming client library refuses to send are sent raw. Every flow's log lines are checked at the
// end for personal codes, tokens and secrets.
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import {
  SignJWT,
  UnsecuredJWT,
  generateKeyPair,
  exportJWK,
  decodeJwt,
  decodeProtectedHeader,
  createLocalJWKSet,
  jwtVerify,
  type JWK,
  type CryptoKey,
} from 'jose';
import { MemoryStore } from '../../src/store/memory.ts';
import { Browser, formFields, type Hop } from '../support/browser.ts';
import { clientAssertion } from '../support/client-assertion.ts';
import {
  startGateway,
  useGateway,
  rpConfig,
  beginLogin,
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_REDIRECT,
  RP_SECRET,
} from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const POST_SECRET = 'rp-post-secret-0123456789-0123456789';
const LIMITED_SECRET = 'rp-limited-secret-0123456789-0123456789';
const PAIRWISE_SECRET = 'rp-pairwise-secret-0123456789-012345';
/** the mock provider's test people, as they must never appear in logs */
const PERSONAL_CODES = ['010180-15097', '01018015097', '325035-11782', '32503511782', '60001019906'];

let clock = 0;
const store = new MemoryStore(() => Date.now() + clock);
let rpKey: CryptoKey;
let otherKey: CryptoKey;
let rpJwk: JWK;
let edKey: CryptoKey;
/** tokens, codes, assertions and hints seen in the tests: none may reach the application log */
const secrets = new Set<string>([RP_SECRET, POST_SECRET, LIMITED_SECRET, PAIRWISE_SECRET, ...PERSONAL_CODES]);
const remember = (...values: (string | undefined | null)[]) => {
  for (const v of values) if (v) secrets.add(v);
};

const gw = useGateway(async ({ cleanup }) => {
  cleanup(() => store.close());
  const keys = await generateKeyPair('ES256', { extractable: true });
  rpKey = keys.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  rpJwk = { ...(await exportJWK(keys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
  const ed = await generateKeyPair('Ed25519');
  edKey = ed.privateKey;
  return {
    store,
    clients: [
      {
        client_id: 'rp-post',
        client_secret: POST_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [RP_REDIRECT],
      },
      {
        client_id: 'rp-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [rpJwk] },
        redirect_uris: [RP_REDIRECT],
      },
      {
        client_id: 'rp-ed25519',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(ed.publicKey)), kid: 'rp-ed-1', use: 'sig' }] },
        redirect_uris: [RP_REDIRECT],
      },
      { client_id: 'rp-limited', client_secret: LIMITED_SECRET, redirect_uris: [RP_REDIRECT], scopes: ['profile'] },
      {
        client_id: 'rp-pairwise',
        client_secret: PAIRWISE_SECRET,
        redirect_uris: [RP_REDIRECT],
        subject_type: 'pairwise',
        scopes: ['profile'],
      },
    ],
    settings: { pairwise_salt: 'pairwise-salt-for-tests-0123456789' },
  };
});
afterEach(() => {
  clock = 0;
});

type Login = { verifier: string; state: string; nonce?: string | undefined };

async function exchange(
  config: oidc.Configuration,
  login: Login,
  callback: URL,
  extra: Partial<oidc.AuthorizationCodeGrantChecks> = {},
  options?: oidc.AuthorizationCodeGrantOptions,
) {
  remember(callback.searchParams.get('code'), login.verifier);
  const tokens = await oidc.authorizationCodeGrant(
    config,
    callback,
    {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
      ...extra,
    },
    undefined,
    options,
  );
  remember(tokens.access_token, tokens.id_token, tokens.refresh_token);
  return tokens;
}

/** A full login through the mock provider, then the token exchange. */
async function loginAndExchange(config = gw.rp, params: Record<string, string> = {}, user = 0) {
  const login = await loginThroughMock(config, params, user);
  expect(login.callback?.searchParams.get('error')).toBeNull();
  return { login, tokens: await exchange(config, login, login.callback!) };
}

/** The redirect back to the agency service, as query parameters (fails if the gateway did not redirect there). */
function rpParams(hop: Hop): URLSearchParams {
  expect(hop.status).toBe(303);
  const url = new URL(hop.location!);
  expect(url.origin + url.pathname).toBe(RP_REDIRECT);
  return url.searchParams;
}

/** An authorization request sent as-is (no client library in the way), with the PKCE, state and nonce a good client sends. */
async function rawAuthorize(params: Record<string, string | undefined>, browser = new Browser()): Promise<Hop> {
  const verifier = oidc.randomPKCECodeVerifier();
  const base: Record<string, string> = {
    client_id: 'rp',
    response_type: 'code',
    redirect_uri: RP_REDIRECT,
    scope: 'openid',
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return browser.get(`${gw.issuer}/auth?${new URLSearchParams(base)}`);
}

/** A token endpoint request sent as-is. */
async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, string>;
  remember(body.access_token, body.id_token);
  return { status: res.status, body };
}

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A fresh authorization code for `config`'s client (full login through the mock provider). */
async function freshCode(config = gw.rp) {
  const login = await loginThroughMock(config);
  const code = login.callback!.searchParams.get('code')!;
  remember(code, login.verifier);
  return { code, verifier: login.verifier };
}

/**
 * Redeem one code `times` at once (RFC 6749 4.1.2, 10.5): tokens are released once at most and, since the
 * code was presented again, revoked; the others are told to try again (they met the first one's lease on
 * the code) or refused; and trying again afterwards is refused.
 */
async function expectOneRedemptionAtMost(issuer: string, form: Record<string, string>, times: number) {
  const redeem = async () => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('rp', RP_SECRET) },
      body: new URLSearchParams(form),
    });
    const body = (await res.json()) as Record<string, string>;
    remember(body.access_token, body.id_token);
    return { status: res.status, body };
  };
  const results = await Promise.all(Array.from({ length: times }, redeem));
  const won = results.filter((r) => r.status === 200);
  expect(won.length).toBeLessThanOrEqual(1);
  for (const r of results.filter((r) => r.status !== 200))
    expect([
      { status: 503, error: 'temporarily_unavailable' },
      { status: 400, error: 'invalid_grant' },
    ]).toContainEqual({ status: r.status, error: r.body.error });
  expect(await redeem()).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  for (const w of won)
    expect((await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${w.body.access_token}` } })).status).toBe(
      401,
    );
}

describe('discovery', () => {
  let meta: Record<string, unknown>;
  beforeAll(async () => {
    const res = await fetch(`${gw.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    meta = (await res.json()) as Record<string, unknown>;
  });

  test('issuer and endpoints belong to this gateway', () => {
    expect(meta.issuer).toBe(gw.issuer);
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'end_session_endpoint',
      'revocation_endpoint',
    ]) {
      expect(String(meta[endpoint])).toMatch(new RegExp(`^${gw.issuer}/`));
    }
  });

  test('jwks_uri serves public signing keys only, each with a unique kid', async () => {
    const jwks = (await (await fetch(String(meta.jwks_uri))).json()) as { keys: JWK[] };
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
    for (const key of jwks.keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(secret);
      expect(key.kid).toBeTruthy();
      expect(key.use).toBe('sig');
    }
    expect(new Set(jwks.keys.map((k) => k.kid)).size).toBe(jwks.keys.length);
    expect(new Set(jwks.keys.map((k) => k.kty))).toEqual(new Set(['RSA', 'EC']));
  });

  test('scopes, levels, algorithms and claims are what the gateway releases', () => {
    expect(meta.scopes_supported).toEqual(['openid', 'profile', 'personal_code']);
    expect(meta.acr_values_supported).toEqual(['low', 'substantial', 'high']);
    expect(new Set(meta.id_token_signing_alg_values_supported as string[])).toEqual(
      new Set(['PS256', 'ES256', 'RS256']),
    );
    for (const algs of [
      meta.id_token_signing_alg_values_supported,
      meta.token_endpoint_auth_signing_alg_values_supported,
    ] as string[][]) {
      expect(algs).not.toContain('none');
      expect(algs.filter((a) => a.startsWith('HS'))).toEqual([]);
    }
    expect(meta.claims_supported).toEqual(
      expect.arrayContaining([
        'sub',
        'iss',
        'auth_time',
        'acr',
        'amr',
        'idp',
        'given_name',
        'family_name',
        'birthdate',
        'personal_code',
        'personal_code_country',
      ]),
    );
    expect(meta.subject_types_supported).toEqual(['public', 'pairwise']);
    expect(meta.token_endpoint_auth_methods_supported).toEqual([
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ]);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
  });

  test('nothing the gateway does not support is advertised', () => {
    expect(meta.response_types_supported).toEqual(['code']);
    expect(meta.grant_types_supported).toEqual(['authorization_code']);
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.claims_parameter_supported).toBe(false);
    expect(meta.request_parameter_supported ?? false).toBe(false);
    expect(meta.request_uri_parameter_supported).toBe(false);
    expect(meta.request_object_signing_alg_values_supported).toBeUndefined();
    expect(meta.token_endpoint_auth_methods_supported).not.toContain('none');
    expect(meta.scopes_supported).not.toContain('offline_access');
    for (const absent of [
      'registration_endpoint',
      'introspection_endpoint',
      'device_authorization_endpoint',
      'backchannel_authentication_endpoint',
      'frontchannel_logout_supported',
      'backchannel_logout_supported',
      'check_session_iframe',
      'userinfo_signing_alg_values_supported',
    ]) {
      expect(meta).not.toHaveProperty(absent);
    }
    // what remains advertised beyond the basics is proven to work below: form_post and fragment response
    // modes, pushed authorization requests (FAPI 2.0) and DPoP-bound tokens
    expect(new Set(meta.response_modes_supported as string[])).toEqual(new Set(['query', 'fragment', 'form_post']));
    expect(meta.pushed_authorization_request_endpoint).toBe(`${gw.issuer}/request`);
    expect(meta.dpop_signing_alg_values_supported).toBeDefined();
  });
});

describe('ID token', () => {
  test('signed (never alg none) by a key in the JWKS, verifiable without the client library', async () => {
    const { tokens, login } = await loginAndExchange();
    const header = decodeProtectedHeader(tokens.id_token!);
    expect(header.alg).toBe('PS256');
    const jwks = (await (await fetch(`${gw.issuer}/jwks`)).json()) as { keys: JWK[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(header.kid);
    const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), {
      issuer: gw.issuer,
      audience: 'rp',
      algorithms: ['PS256'],
    });
    expect(payload).toMatchObject({
      sub: 'PNOLV-010180-15097',
      nonce: login.nonce,
      acr: 'high',
      amr: ['mock'],
      idp: 'mock-eid',
    });
    expect(typeof payload.auth_time).toBe('number');
  });

  test('a token with alg none in our name does not verify as ours', async () => {
    const { tokens } = await loginAndExchange();
    const forged = new UnsecuredJWT(decodeJwt(tokens.id_token!)).encode();
    const jwks = createLocalJWKSet((await (await fetch(`${gw.issuer}/jwks`)).json()) as { keys: JWK[] });
    await expect(jwtVerify(forged, jwks, { issuer: gw.issuer })).rejects.toThrow();
  });

  test('a client cannot be configured for unsigned ID tokens', async () => {
    await expect(
      startGateway({
        clients: [
          {
            client_id: 'rp-none',
            client_secret: RP_SECRET,
            redirect_uris: [RP_REDIRECT],
            id_token_signed_response_alg: 'none',
          },
        ],
      }),
    ).rejects.toThrow(/id_token_signed_response_alg/);
  });
});

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

  test('id_token_hint naming the person who authenticates: a normal login', async () => {
    const first = await loginAndExchange();
    const { tokens } = await loginAndExchange(gw.rp, { id_token_hint: first.tokens.id_token! });
    expect(tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
  });

  test('id_token_hint naming someone else than who authenticates: login_required, no code', async () => {
    const anna = await loginAndExchange(gw.rp, {}, 1);
    const login = await loginThroughMock(gw.rp, { id_token_hint: anna.tokens.id_token! }, 0);
    expect(login.callback?.searchParams.get('error')).toBe('login_required');
    expect(login.callback?.searchParams.get('code')).toBeNull();
  });

  test('id_token_hint with a pairwise subject: the same person passes, someone else is login_required', async () => {
    const pairwise = await rpConfig(gw.issuer, 'rp-pairwise', PAIRWISE_SECRET);
    const scope = 'openid profile'; // never the personal code (src/config/load.ts)
    const first = await loginAndExchange(pairwise, { scope });
    expect(first.tokens.claims()!.sub).not.toContain('PNO');
    const same = await loginAndExchange(pairwise, { scope, id_token_hint: first.tokens.id_token! });
    expect(same.tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
    const other = await loginThroughMock(pairwise, { scope, id_token_hint: first.tokens.id_token! }, 2);
    expect(other.callback?.searchParams.get('error')).toBe('login_required');
    // and that browser's engine session, logged in as the other person by the resume, is ended: its cookie
    // cleared, or what it names gone from the store
    const session = /(?:^|; )_session=([^;]+)/.exec(other.browser.cookieHeader(new URL(gw.issuer)))?.[1];
    expect(session === undefined || (await store.get(`oidc:Session:${session}`)) === undefined).toBe(true);
  });

  test('id_token_hint that is not our ID token: invalid_request', async () => {
    const forged = await new SignJWT({ sub: 'PNOLV-010180-15097' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(gw.issuer)
      .setAudience('rp')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(otherKey);
    expect(rpParams(await rawAuthorize({ id_token_hint: forged })).get('error')).toBe('invalid_request');
    expect(rpParams(await rawAuthorize({ id_token_hint: 'not-a-jwt' })).get('error')).toBe('invalid_request');
  });

  test('login_hint is accepted (the provider decides who authenticates) and never logged', async () => {
    const hint = '32503511782';
    const { tokens } = await loginAndExchange(gw.rp, { login_hint: hint });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test("ui_locales chooses the selection page language, ahead of the browser's Accept-Language", async () => {
    const lang = async (ui?: string) => {
      const started = await beginLogin(gw.rp, ui ? { ui_locales: ui } : {});
      const page = await started.browser.follow(started.hop);
      expect(page.status).toBe(200);
      return { lang: /<html lang="(\w+)"/.exec(page.body)?.[1], page, browser: started.browser };
    };
    expect((await lang('lv')).lang).toBe('lv'); // the test browser sends Accept-Language: en
    expect((await lang('en')).lang).toBe('en');
    expect((await lang('fr-FR lv')).lang).toBe('lv');
    expect((await lang()).lang).toBe('en');
    // the language travels on to the provider
    const lv = await lang('lv');
    const authorize = await chooseProvider(lv.browser, lv.page.url, 'mock-eid');
    expect(new URL(authorize.location!).searchParams.get('ui_locales')).toBe('lv');
  });

  test('acr_values is honoured: the level achieved meets the one asked for', async () => {
    const bank = await loginThroughMock(gw.rp, { acr_values: 'substantial' }, 0, 'mock-bank');
    expect((await exchange(gw.rp, bank, bank.callback!)).claims()).toMatchObject({
      acr: 'substantial',
      idp: 'mock-bank',
    });
    const high = await loginThroughMock(gw.rp, { acr_values: 'high' });
    expect((await exchange(gw.rp, high, high.callback!)).claims()).toMatchObject({ acr: 'high', idp: 'mock-eid' });
    // a level the chosen provider cannot reach is never offered, even when posted directly
    const started = await beginLogin(gw.rp, { acr_values: 'high' });
    const page = await started.browser.follow(started.hop);
    expect((await chooseProvider(started.browser, page.url, 'mock-bank')).status).toBe(400);
  });

  test('the claims parameter is not supported: it releases nothing beyond the scopes', async () => {
    const claims = JSON.stringify({
      id_token: { personal_code: { essential: true }, given_name: null },
      userinfo: { personal_code: null },
    });
    const { tokens } = await loginAndExchange(gw.rp, { scope: 'openid', claims });
    expect(tokens.claims()).not.toHaveProperty('personal_code');
    expect(tokens.claims()).not.toHaveProperty('given_name');
    const info = await oidc.fetchUserInfo(gw.rp, tokens.access_token, tokens.claims()!.sub);
    expect(info).not.toHaveProperty('personal_code');
  });

  test('request objects are not supported: request_not_supported, request_uri_not_supported', async () => {
    const request = await new SignJWT({
      client_id: 'rp',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: RP_REDIRECT,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'rp-key-1' })
      .setIssuer('rp')
      .setAudience(gw.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rpKey);
    expect(rpParams(await rawAuthorize({ request })).get('error')).toBe('request_not_supported');
    const viaUri = rpParams(await rawAuthorize({ request_uri: 'https://rp.example.test/request.jwt' }));
    expect(viaUri.get('error')).toMatch(/^(request_uri_not_supported|invalid_request_uri)$/);
    expect(viaUri.get('code')).toBeNull();
  });

  test('resource indicators are not offered: a resource parameter is invalid_target', async () => {
    const q = rpParams(await rawAuthorize({ resource: 'https://api.example.test/' }));
    expect(q.get('error')).toBe('invalid_target');
    expect(q.get('code')).toBeNull();
  });

  test('response_mode=form_post delivers the code by an auto-submitted form, on a page in the login’s language', async () => {
    const started = await beginLogin(gw.rp, { response_mode: 'form_post', ui_locales: 'ru' });
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 0);
    const final = await started.browser.follow(back, (h) => h.status === 200 && h.body.includes(RP_REDIRECT));
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(final.body)!;
    expect(form[1]).toBe(RP_REDIRECT);
    const fields = formFields(form[2]!);
    expect(fields.state).toBe(started.state);
    expect(fields.iss).toBe(gw.issuer);
    expect(final.body).toContain('<html lang="ru"');
    expect(final.body).toContain('<h1>Перенаправление…</h1>');
    const callback = new URL(RP_REDIRECT);
    for (const [k, v] of Object.entries(fields)) callback.searchParams.set(k, v);
    const tokens = await exchange(gw.rp, started, callback);
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('response_mode=fragment delivers the code in the fragment', async () => {
    const login = await loginThroughMock(gw.rp, { response_mode: 'fragment' });
    const hash = new URLSearchParams(login.callback!.hash.slice(1));
    expect(hash.get('state')).toBe(login.state);
    remember(hash.get('code'));
    expect(login.callback!.searchParams.get('code')).toBeNull();
  });
});

describe('redirect_uri: an error page, never a redirect', () => {
  test.each([
    ['another host', { redirect_uri: 'https://evil.example/cb' }],
    ['a trailing slash', { redirect_uri: `${RP_REDIRECT}/` }],
    ['an extra query', { redirect_uri: `${RP_REDIRECT}?next=https://evil.example` }],
    ['http instead of https', { redirect_uri: RP_REDIRECT.replace('https:', 'http:') }],
    ['a different case', { redirect_uri: RP_REDIRECT.toUpperCase() }],
    ['missing (OpenID Connect requires it)', { redirect_uri: undefined }],
    ['an unknown client', { client_id: 'no-such-client' }],
    ['no client', { client_id: undefined }],
  ])('%s', async (_name, params) => {
    const hop = await rawAuthorize(params as Record<string, string | undefined>);
    expect(hop.status).toBe(400);
    expect(hop.location).toBeUndefined();
    expect(hop.headers.get('content-type')).toMatch(/text\/html/);
    expect(hop.body).not.toContain('evil.example');
  });
});

describe('token endpoint', () => {
  test('authorization code reuse: invalid_grant, and the access token from the first use is revoked', async () => {
    const { login, tokens } = await loginAndExchange();
    expect(await oidc.fetchUserInfo(gw.rp, tokens.access_token, tokens.claims()!.sub)).toMatchObject({
      sub: 'PNOLV-010180-15097',
    });
    await expect(exchange(gw.rp, login, login.callback!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oidc.fetchUserInfo(gw.rp, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject({
      status: 401,
    });
  });

  test('the same code redeemed three times at once: no usable tokens, and trying again is refused', async () => {
    const { code, verifier } = await freshCode();
    const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: RP_REDIRECT };
    await expectOneRedemptionAtMost(gw.issuer, form, 3);
  });

  test('a code is bound to the client it was issued to', async () => {
    const { code, verifier } = await freshCode();
    const res = await tokenRequest({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: RP_REDIRECT,
      client_id: 'rp-post',
      client_secret: POST_SECRET,
    });
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('redirect_uri at the token endpoint must be the one the code was issued for', async () => {
    const { code, verifier } = await freshCode();
    const res = await tokenRequest(
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: 'https://rp.example.test/other',
      },
      { authorization: basic('rp', RP_SECRET) },
    );
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('an expired code: invalid_grant', async () => {
    const { code, verifier } = await freshCode();
    clock = (gw.config.ttl.authorization_code + 1) * 1000;
    const res = await tokenRequest(
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: RP_REDIRECT },
      { authorization: basic('rp', RP_SECRET) },
    );
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('PKCE: S256 verifies, a wrong or missing verifier does not', async () => {
    const { code, verifier } = await freshCode();
    const auth = { authorization: basic('rp', RP_SECRET) };
    const base = { grant_type: 'authorization_code', code, redirect_uri: RP_REDIRECT };
    expect(await tokenRequest(base, auth)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const other = await freshCode();
    expect(
      await tokenRequest({ ...base, code: other.code, code_verifier: oidc.randomPKCECodeVerifier() }, auth),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const ok = await freshCode();
    const res = await tokenRequest({ ...base, code: ok.code, code_verifier: ok.verifier }, auth);
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
    expect(verifier).toBeTruthy();
  });

  test('PKCE plain and a missing challenge are refused at the authorization endpoint', async () => {
    const plain = oidc.randomPKCECodeVerifier();
    expect(rpParams(await rawAuthorize({ code_challenge: plain, code_challenge_method: 'plain' })).get('error')).toBe(
      'invalid_request',
    );
    expect(
      rpParams(await rawAuthorize({ code_challenge: undefined, code_challenge_method: undefined })).get('error'),
    ).toBe('invalid_request');
    expect(rpParams(await rawAuthorize({ code_challenge: plain, code_challenge_method: undefined })).get('error')).toBe(
      'invalid_request',
    );
  });

  test('no refresh tokens: none in a token response, and the grant is refused', async () => {
    const { tokens } = await loginAndExchange();
    expect(tokens.refresh_token).toBeUndefined();
    const { tokens: offline } = await loginAndExchange(gw.rp, { scope: 'openid offline_access', prompt: 'consent' });
    expect(offline.refresh_token).toBeUndefined();
    const refresh = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: 'anything' },
      { authorization: basic('rp', RP_SECRET) },
    );
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toMatch(/^(unsupported_grant_type|unauthorized_client)$/);
  });

  test.each(['client_credentials', 'password', 'urn:ietf:params:oauth:grant-type:device_code'])(
    'grant_type=%s is refused',
    async (grantType) => {
      const res = await tokenRequest(
        { grant_type: grantType, scope: 'openid', username: 'x', password: 'y', device_code: 'z' },
        { authorization: basic('rp', RP_SECRET) },
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/^(unsupported_grant_type|unauthorized_client)$/);
      expect(res.body.access_token).toBeUndefined();
    },
  );
});

describe('client authentication at the token endpoint', () => {
  const codeForm = async (config = gw.rp) => {
    const { code, verifier } = await freshCode(config);
    return { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: RP_REDIRECT };
  };

  test('client_secret_basic: the right secret works, a wrong one is invalid_client', async () => {
    expect(await tokenRequest(await codeForm(), { authorization: basic('rp', `${RP_SECRET}x`) })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect((await tokenRequest(await codeForm(), { authorization: basic('rp', RP_SECRET) })).status).toBe(200);
  });

  test('client_secret_post: the right secret works, a wrong one is invalid_client', async () => {
    const config = await rpConfig(gw.issuer, 'rp-post', POST_SECRET, oidc.ClientSecretPost(POST_SECRET));
    expect(
      (await tokenRequest({ ...(await codeForm(config)), client_id: 'rp-post', client_secret: POST_SECRET })).status,
    ).toBe(200);
    expect(
      await tokenRequest({ ...(await codeForm(config)), client_id: 'rp-post', client_secret: 'wrong' }),
    ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // only the registered method: the right secret in the other place is refused (src/oidc/interop.ts)
    expect(await tokenRequest(await codeForm(config), { authorization: basic('rp-post', POST_SECRET) })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    expect(await tokenRequest(await codeForm(config), { authorization: basic('rp-post', 'wrong') })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client' },
    });
    // both at once is refused
    expect(
      await tokenRequest(
        { ...(await codeForm(config)), client_id: 'rp-post', client_secret: POST_SECRET },
        { authorization: basic('rp-post', POST_SECRET) },
      ),
    ).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  describe('private_key_jwt', () => {
    let config: oidc.Configuration;
    beforeAll(async () => {
      config = await rpConfig(gw.issuer, 'rp-jwt', undefined, oidc.PrivateKeyJwt({ key: rpKey, kid: 'rp-key-1' }));
    });
    const assertion = async (
      claims: { aud?: string | string[] | null; exp?: number | null; jti?: string | null; iss?: string } = {},
      key: CryptoKey = rpKey,
      alg = 'ES256',
    ) => {
      const { jwt } = await clientAssertion({ key, kid: 'rp-key-1', alg }, 'rp-jwt', gw.issuer, claims);
      remember(jwt);
      return jwt;
    };
    const withAssertion = async (jwt: string) =>
      tokenRequest({
        ...(await codeForm(config)),
        client_id: 'rp-jwt',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: jwt,
      });

    test('a valid assertion (audience: the issuer) works through openid-client', async () => {
      const { tokens } = await loginAndExchange(config);
      expect(tokens.claims()!.aud).toBe('rp-jwt');
    });

    test('an Ed25519 key through openid-client, which names the algorithm Ed25519 (RFC 9864), not EdDSA', async () => {
      const ed = await rpConfig(gw.issuer, 'rp-ed25519', undefined, oidc.PrivateKeyJwt({ key: edKey, kid: 'rp-ed-1' }));
      const { tokens } = await loginAndExchange(ed);
      expect(tokens.claims()!.aud).toBe('rp-ed25519');
    });

    test('audience: the issuer or the token endpoint; anything else is invalid_client', async () => {
      expect((await withAssertion(await assertion({ aud: gw.issuer }))).status).toBe(200);
      expect((await withAssertion(await assertion({ aud: `${gw.issuer}/token` }))).status).toBe(200);
      expect(await withAssertion(await assertion({ aud: 'https://other.example' }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await withAssertion(await assertion({ aud: `${gw.issuer}/me` }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await withAssertion(await assertion({ aud: null }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    });

    test('expiry: an expired assertion or one without exp is invalid_client', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await withAssertion(await assertion({ exp: now - 600 }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await withAssertion(await assertion({ exp: null }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    });

    test('reuse: the same assertion twice is invalid_client the second time', async () => {
      const jwt = await assertion();
      expect((await withAssertion(jwt)).status).toBe(200);
      expect(await withAssertion(jwt)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(await withAssertion(await assertion({ jti: null }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
    });

    test('a foreign key, another issuer, alg none or a MAC with no secret: invalid_client', async () => {
      expect(await withAssertion(await assertion({}, otherKey))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      expect(await withAssertion(await assertion({ iss: 'rp' }))).toMatchObject({
        status: 401,
        body: { error: 'invalid_client' },
      });
      const now = Math.floor(Date.now() / 1000);
      const unsigned = new UnsecuredJWT({
        iss: 'rp-jwt',
        sub: 'rp-jwt',
        aud: gw.issuer,
        exp: now + 60,
        jti: randomUUID(),
      }).encode();
      expect(await withAssertion(unsigned)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      const hmac = await new SignJWT({ iss: 'rp-jwt', sub: 'rp-jwt', aud: gw.issuer, exp: now + 60, jti: randomUUID() })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode('0123456789abcdef0123456789abcdef'));
      expect(await withAssertion(hmac)).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });

    test('a private_key_jwt client cannot fall back to a secret', async () => {
      expect(
        await tokenRequest({ ...(await codeForm(config)), client_id: 'rp-jwt', client_secret: RP_SECRET }),
      ).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    });
  });
});

describe('userinfo', () => {
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  beforeAll(async () => {
    ({ tokens } = await loginAndExchange());
  });
  const expected = {
    sub: 'PNOLV-010180-15097',
    given_name: 'Jānis',
    family_name: 'Bērziņš',
    personal_code: '010180-15097',
    personal_code_country: 'LV',
    idp: 'mock-eid',
  };

  test('GET with a bearer token', async () => {
    expect(await oidc.fetchUserInfo(gw.rp, tokens.access_token, 'PNOLV-010180-15097')).toMatchObject(expected);
  });

  test('POST with a bearer token', async () => {
    const res = await oidc.fetchProtectedResource(gw.rp, tokens.access_token, new URL(`${gw.issuer}/me`), 'POST', null);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(expected);
  });

  test('POST with the token in the form body', async () => {
    const res = await fetch(`${gw.issuer}/me`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject(expected);
  });

  test('a token in the query string is not accepted', async () => {
    const res = await fetch(`${gw.issuer}/me?access_token=${tokens.access_token}`);
    expect(res.status).toBe(400);
  });

  test('an unknown token: 401 invalid_token with a WWW-Authenticate challenge', async () => {
    const res = await fetch(`${gw.issuer}/me`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  test("a service cannot revoke another service's token", async () => {
    const { tokens: own } = await loginAndExchange();
    const res = await fetch(`${gw.issuer}/token/revocation`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: own.access_token, client_id: 'rp-post', client_secret: POST_SECRET }),
    });
    expect(res.status).toBe(400);
    expect(await oidc.fetchUserInfo(gw.rp, own.access_token, 'PNOLV-010180-15097')).toMatchObject({
      sub: 'PNOLV-010180-15097',
    });
  });

  test('a revoked token: 401', async () => {
    const { tokens: own } = await loginAndExchange();
    await oidc.tokenRevocation(gw.rp, own.access_token);
    await expect(oidc.fetchUserInfo(gw.rp, own.access_token, 'PNOLV-010180-15097')).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe('pushed authorization requests (FAPI 2.0)', () => {
  test('a pushed request completes the login; its request_uri is single use', async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(gw.rp, {
      redirect_uri: RP_REDIRECT,
      scope: 'openid profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    const browser = new Browser();
    const started = { browser, verifier, state, nonce, hop: await browser.get(url.toString()) };
    const page = await browser.follow(started.hop);
    const authorize = await chooseProvider(browser, page.url, 'mock-eid');
    const final = await browser.follow(await mockProviderLogin(browser, authorize, 0), atRp);
    const tokens = await exchange(gw.rp, started, new URL(final.location!));
    expect(tokens.claims()).toMatchObject({ sub: 'PNOLV-010180-15097', given_name: 'Jānis' });
    // the URL carries no redirect_uri of its own, so the refusal is an error page
    const again = await new Browser().get(url.toString());
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
  });

  test('a pushed request is checked like a direct one (state, PKCE, scopes) and needs client authentication', async () => {
    const push = async (
      form: Record<string, string>,
      headers: Record<string, string> = { authorization: basic('rp', RP_SECRET) },
    ) => {
      const res = await fetch(`${gw.issuer}/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(form),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    const good = {
      client_id: 'rp',
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      state: 'state-par-0001',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    };
    expect((await push(good)).status).toBe(201);
    expect(await push(good, {})).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await push({ ...good, state: 'short' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await push({ ...good, code_challenge_method: 'plain' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    // an unknown scope value is ignored, as at the authorization endpoint; a scope without openid is not
    expect((await push({ ...good, scope: 'openid email' })).status).toBe(201);
    expect(await push({ ...good, scope: 'profile' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_scope' },
    });
    expect(await push({ ...good, redirect_uri: 'https://evil.example/cb' })).toMatchObject({ status: 400 });
    const request = await new SignJWT({ ...good })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('rp')
      .setAudience(gw.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(rpKey);
    expect(await push({ client_id: 'rp', request })).toMatchObject({
      status: 400,
      body: { error: 'request_not_supported' },
    });
  });

  test('an expired request_uri is refused', async () => {
    const url = await oidc.buildAuthorizationUrlWithPAR(gw.rp, {
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
    });
    clock = 3600 * 1000;
    const hop = await new Browser().get(url.toString());
    expect(hop.status).toBe(400);
    expect(hop.location).toBeUndefined();
  });
});

describe('DPoP-bound tokens', () => {
  test('a DPoP-bound access token works with its proof and not as a bearer token', async () => {
    const dpop = oidc.getDPoPHandle(gw.rp, await oidc.randomDPoPKeyPair('ES256'));
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchange(gw.rp, login, login.callback!, {}, { DPoP: dpop });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    expect(await oidc.fetchUserInfo(gw.rp, tokens.access_token, 'PNOLV-010180-15097', { DPoP: dpop })).toMatchObject({
      sub: 'PNOLV-010180-15097',
    });
    const bearer = await fetch(`${gw.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(bearer.status).toBe(401);
  });
});

describe('single use under concurrency, on the Redis store (real round trips let the requests interleave)', () => {
  const prefix = testPrefix();
  const rgw = useGateway(({ cleanup }) => {
    const redis = testRedisStore(prefix, cleanup);
    // (clean-ups run in reverse, after the gateway is closed: its log lines first)
    cleanup(() => logsOfRedisGateway.push(...rgw.logLines));
    return {
      store: redis,
      clients: [
        {
          client_id: 'rp-jwt',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [rpJwk] },
          redirect_uris: [RP_REDIRECT],
        },
      ],
    };
  });

  test('one client assertion sent with several requests at once authenticates one of them at most', async () => {
    const config = await rpConfig(rgw.issuer, 'rp-jwt', undefined, oidc.PrivateKeyJwt({ key: rpKey, kid: 'rp-key-1' }));
    for (let round = 0; round < 3; round += 1) {
      const logins = await Promise.all([1, 2, 3].map(() => loginThroughMock(config)));
      const { jwt: assertion } = await clientAssertion({ key: rpKey, kid: 'rp-key-1' }, 'rp-jwt', rgw.issuer);
      remember(assertion);
      const statuses = await Promise.all(
        logins.map(async (l) => {
          const form = {
            grant_type: 'authorization_code',
            code: l.callback!.searchParams.get('code')!,
            code_verifier: l.verifier,
            redirect_uri: RP_REDIRECT,
            client_id: 'rp-jwt',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          };
          const res = await fetch(`${rgw.issuer}/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(form),
          });
          remember(((await res.json()) as Record<string, string>).access_token);
          return res.status;
        }),
      );
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(1);
      expect(statuses.filter((s) => s !== 200).every((s) => s === 400 || s === 401)).toBe(true);
    }
  });

  test('one code redeemed four times at once, three rounds: no usable tokens, and trying again is refused', async () => {
    for (let round = 0; round < 3; round += 1) {
      const login = await loginThroughMock(rgw.rp);
      const form = {
        grant_type: 'authorization_code',
        code: login.callback!.searchParams.get('code')!,
        code_verifier: login.verifier,
        redirect_uri: RP_REDIRECT,
      };
      await expectOneRedemptionAtMost(rgw.issuer, form, 4);
    }
  });
});

const logsOfRedisGateway: string[] = [];

describe('application logs', () => {
  test('no personal code, token, code, assertion or secret reached the log in any flow above', () => {
    const lines = [...gw.logLines, ...logsOfRedisGateway];
    const log = lines.join('\n');
    expect(gw.logLines.length).toBeGreaterThan(0);
    const leaked = [...secrets].filter((s) => s.length >= 8 && log.includes(s));
    expect(leaked).toEqual([]);
    // nor a semantics identifier built from one
    expect(log).not.toMatch(/PNO(LV|EE|LT)-\d/);
  });
});

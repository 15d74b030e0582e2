// What the oidc-checklist-*.test.ts files share: the gateway's OpenID provider side held to what trusted
// systems test (the OpenID Foundation conformance plans' OP checks, the FAPI 2.0 additions that apply here,
// and how Estonia's state authentication service, TARA, shapes requests and errors). openid-client plays
// the agency service over real HTTP; negative cases that a conforming client library refuses to send are
// sent raw. Every token, code, assertion and secret a test sees is remembered, and each file checks at its
// end that none of them, nor a personal code, reached the application log.
import * as oidc from 'openid-client';
import { generateKeyPair, exportJWK, type JWK, type CryptoKey } from 'jose';
import { MemoryStore } from '../../src/store/memory.ts';
import { Browser, type Hop } from '../support/browser.ts';
import {
  useGateway,
  loginThroughMock,
  RP_REDIRECT,
  RP_SECRET,
  type GatewayInUse,
  type SentLogin,
} from '../support/gateway.ts';

export const POST_SECRET = 'rp-post-secret-0123456789-0123456789';
export const LIMITED_SECRET = 'rp-limited-secret-0123456789-0123456789';
export const PAIRWISE_SECRET = 'rp-pairwise-secret-0123456789-012345';
/** the mock provider's test people, as they must never appear in logs */
const PERSONAL_CODES = ['010180-15097', '01018015097', '325035-11782', '32503511782', '60001019906'];

/** tokens, codes, assertions and hints seen in the tests: none may reach the application log */
const secrets = new Set<string>([RP_SECRET, POST_SECRET, LIMITED_SECRET, PAIRWISE_SECRET, ...PERSONAL_CODES]);
export const remember = (...values: (string | undefined | null)[]) => {
  for (const v of values) if (v) secrets.add(v);
};

/** The agency services' keys: `rp-jwt`'s (ES256, `rpJwk` its public half), `rp-ed25519`'s, and a foreign one. */
export interface ClientKeys {
  rpKey: CryptoKey;
  rpJwk: JWK;
  otherKey: CryptoKey;
  edKey: CryptoKey;
  edJwk: JWK;
}

export async function clientKeys(): Promise<ClientKeys> {
  const keys = await generateKeyPair('ES256', { extractable: true });
  const ed = await generateKeyPair('Ed25519');
  return {
    rpKey: keys.privateKey,
    rpJwk: { ...(await exportJWK(keys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' },
    otherKey: (await generateKeyPair('ES256')).privateKey,
    edKey: ed.privateKey,
    edJwk: { ...(await exportJWK(ed.publicKey)), kid: 'rp-ed-1', use: 'sig' },
  };
}

/** The gateway's clock runs `offset` ms ahead (set by a test, reset after each). */
export const clock = { offset: 0 };
export const store = new MemoryStore(() => Date.now() + clock.offset);
/** filled when the gateway starts */
export const keys = {} as ClientKeys;
let running: GatewayInUse | undefined;
const gateway = (): GatewayInUse => {
  if (!running) throw new Error('useChecklistGateway() registers the gateway first');
  return running;
};

/**
 * The gateway of one checklist file, on the in-memory store with the file's clock, with the agency services
 * `rp` (client_secret_basic), `rp-post`, `rp-jwt` and `rp-ed25519` (private_key_jwt), `rp-limited` (profile
 * only) and `rp-pairwise` (pairwise subjects).
 */
export function useChecklistGateway(): GatewayInUse {
  running = useGateway(async ({ cleanup }) => {
    cleanup(() => store.close());
    Object.assign(keys, await clientKeys());
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
          jwks: { keys: [keys.rpJwk] },
          redirect_uris: [RP_REDIRECT],
        },
        {
          client_id: 'rp-ed25519',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [keys.edJwk] },
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
    clock.offset = 0;
  });
  return running;
}

/**
 * The last describe of each checklist file: no personal code, token, code, assertion or secret that the
 * file's tests saw reached the log of `gateways` (their lines read when the test runs).
 */
export function describeLogsFreeOfSecrets(gateways: () => string[][]) {
  describe('application logs', () => {
    test('no personal code, token, code, assertion or secret reached the log in any flow above', () => {
      const [first, ...others] = gateways();
      const log = [...first!, ...others.flat()].join('\n');
      expect(first!.length).toBeGreaterThan(0);
      const leaked = [...secrets].filter((s) => s.length >= 8 && log.includes(s));
      expect(leaked).toEqual([]);
      // nor a semantics identifier built from one
      expect(log).not.toMatch(/PNO(LV|EE|LT)-\d/);
    });
  });
}

export async function exchange(
  config: oidc.Configuration,
  login: SentLogin,
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
export async function loginAndExchange(config = gateway().rp, params: Record<string, string> = {}, user = 0) {
  const login = await loginThroughMock(config, params, user);
  expect(login.callback?.searchParams.get('error')).toBeNull();
  return { login, tokens: await exchange(config, login, login.callback!) };
}

/** The redirect back to the agency service, as query parameters (fails if the gateway did not redirect there). */
export function rpParams(hop: Hop): URLSearchParams {
  expect(hop.status).toBe(303);
  const url = new URL(hop.location!);
  expect(url.origin + url.pathname).toBe(RP_REDIRECT);
  return url.searchParams;
}

/** An authorization request sent as-is (no client library in the way), with the PKCE, state and nonce a good client sends. */
export async function rawAuthorize(params: Record<string, string | undefined>, browser = new Browser()): Promise<Hop> {
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
  return browser.get(`${gateway().issuer}/auth?${new URLSearchParams(base)}`);
}

/** A token endpoint request sent as-is, at `issuer` (this file's gateway unless said). */
export async function tokenRequest(
  form: Record<string, string>,
  headers: Record<string, string> = {},
  issuer = gateway().issuer,
) {
  const res = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const body = (await res.json()) as Record<string, string>;
  remember(body.access_token, body.id_token);
  return { status: res.status, body };
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A fresh authorization code for `config`'s client (full login through the mock provider). */
export async function freshCode(config = gateway().rp) {
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
export async function expectOneRedemptionAtMost(issuer: string, form: Record<string, string>, times: number) {
  const redeem = () => tokenRequest(form, { authorization: basic('rp', RP_SECRET) }, issuer);
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

// The agency service in end-to-end tests: a real OpenID Connect client library (openid-client) with PKCE,
// state and nonce, the user's browser walking the selection page and the mock eID, and the code exchange.
import * as oidc from 'openid-client';
import { Browser, type Hop } from './browser.ts';

export const RP_REDIRECT = 'https://rp.example.test/cb';
export const RP_SECRET = 'rp-secret-0123456789-0123456789-abcdef';

/** openid-client configuration for a client of the gateway (discovery over real HTTP). A secret goes by
 * client_secret_basic (the gateway's default method, and only the registered method is accepted) unless
 * `auth` says otherwise; openid-client alone would send it in the body. */
export async function rpConfig(
  issuer: string,
  clientId = 'rp',
  secret: string | undefined = RP_SECRET,
  auth?: oidc.ClientAuth,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    { ...metadata, ...(secret ? { client_secret: secret } : {}) },
    auth ?? (secret ? oidc.ClientSecretBasic(secret) : undefined),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/**
 * A token request with a made-up code from `clientId` at `base` (the issuer, or another listener's origin):
 * client authentication runs first, so the error tells whether it passed (invalid_grant: authenticated;
 * invalid_client: refused). `fetchImpl` brings the transport (a client certificate, a terminator's headers).
 */
export async function tokenEndpointVerdict(
  base: string,
  clientId: string,
  fetchImpl: (url: string, init: RequestInit) => Promise<Response>,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetchImpl(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'not-a-real-code',
      redirect_uri: RP_REDIRECT,
      code_verifier: 'x'.repeat(43),
      client_id: clientId,
    }).toString(),
  });
  return ((await res.json()) as { error: string }).error;
}

export interface StartedLogin {
  browser: Browser;
  verifier: string;
  state: string;
  nonce: string;
  /** the first hop after the authorization request (a redirect to the interaction, or an error) */
  hop: Hop;
}

/** The agency service sends the browser to the gateway with PKCE, state and nonce. */
export async function beginLogin(
  config: oidc.Configuration,
  params: Record<string, string> = {},
  browser = new Browser(),
): Promise<StartedLogin> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid profile personal_code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const hop = await browser.get(url.toString());
  return { browser, verifier, state, nonce, hop };
}

export const atRp = (hop: Hop) => !!hop.location?.startsWith(RP_REDIRECT);

/** Choose a provider on the selection page (as the user's click would). */
export async function chooseProvider(browser: Browser, interactionUrl: string, providerId: string): Promise<Hop> {
  const url = new URL(interactionUrl);
  return browser.post(`${url.origin}${url.pathname}/provider`, { provider: providerId });
}

/** Act as the user at the mock provider: pick test user `index` (or cancel). */
export async function mockProviderLogin(
  browser: Browser,
  authorizeHop: Hop,
  user: number | 'cancel' | 'outage',
): Promise<Hop> {
  const page = await browser.get(authorizeHop.location!);
  const form = /<form method="post" action="([^"]+)">((?:<input[^>]*>)+)/.exec(page.body);
  if (!form) throw new Error(`mock provider page unexpected: ${page.status}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  fields.user = String(user);
  return browser.post(new URL(form[1]!, authorizeHop.location!).toString(), fields);
}

/**
 * Full happy path through the mock provider; returns the RP callback URL with code and state. The
 * gateway's URLs come from `config` (its discovery).
 */
export async function loginThroughMock(
  config: oidc.Configuration,
  params: Record<string, string> = {},
  user: number | 'cancel' | 'outage' = 0,
  providerId = 'mock-eid',
) {
  const started = await beginLogin(config, params);
  const interaction = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  let authorize: Hop;
  if (interaction.location?.includes(`/providers/${providerId}/authorize`)) authorize = interaction;
  else authorize = await chooseProvider(started.browser, interaction.url, providerId);
  if (!authorize.location)
    throw new Error(
      `no provider redirect: ${interaction.status} ${interaction.url} ${authorize.status} ${authorize.body.slice(0, 300)}`,
    );
  const back = await mockProviderLogin(started.browser, authorize, user);
  const final = await started.browser.follow(back, atRp);
  return { ...started, final, callback: final.location ? new URL(final.location) : undefined };
}

/** What the agency service checks a code against: the values it sent with the authorization request. */
export interface SentLogin {
  verifier: string;
  state: string;
  nonce?: string | undefined;
}

/**
 * The agency service's token request for the code at `callback` (the redirect to it, or its URL), checking
 * PKCE, state, nonce and that an ID token came; returns the token response.
 */
export async function exchangeCode(config: oidc.Configuration, login: SentLogin, callback: Hop | URL) {
  const url = callback instanceof URL ? callback : new URL(callback.location ?? 'about:no-redirect');
  if (!url.searchParams.get('code'))
    throw new Error(
      `no code at the agency service: ${callback instanceof URL ? url.href : `${callback.status} ${callback.url} -> ${callback.location}`}`,
    );
  return oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
}

/** The claims of the ID token the code at `callback` is exchanged for (see exchangeCode). */
export async function claimsOf(config: oidc.Configuration, login: SentLogin, callback: Hop | URL) {
  return (await exchangeCode(config, login, callback)).claims()!;
}

/** The agency service's token request for the code at `callback`, sent as it is (no client library): the raw
 * answer, for the error answers openid-client would turn into exceptions. */
export function redeemCode(issuer: string, login: SentLogin, callback: URL): Promise<Response> {
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: RP_REDIRECT,
      code_verifier: login.verifier,
    }),
  });
}

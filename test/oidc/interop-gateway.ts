// What the interoperability tests share: the whole gateway over real HTTP with the agency services `rp`
// (client_secret_basic), `rp-post` (client_secret_post) and `rp-apache` (registered as the README tells a
// mod_auth_openidc 2.4.12 service to), openid-client configured for `rp` and `rp-apache`, and requests a
// library would not send, sent raw.
import * as oidc from 'openid-client';
import type { Hop } from '../support/browser.ts';
import { startGateway, rpConfig, loginThroughMock, RP_REDIRECT, type TestGateway } from '../support/gateway.ts';

export const POST_SECRET = 'rp-post-secret-0123456789-0123456789';
export const APACHE_SECRET = 'rp-apache-secret-0123456789-0123456789';

/** set by useInteropGateway()'s beforeAll */
export const interop = {} as { gw: TestGateway; rp: oidc.Configuration; apache: oidc.Configuration };

/** Registers the gateway's start before all tests of the current file, and its close after them. */
export function useInteropGateway(): void {
  beforeAll(async () => {
    interop.gw = await startGateway({
      clients: [
        {
          client_id: 'rp-post',
          client_secret: POST_SECRET,
          token_endpoint_auth_method: 'client_secret_post',
          redirect_uris: [RP_REDIRECT],
        },
        // as the README tells a mod_auth_openidc 2.4.12 service to register
        {
          client_id: 'rp-apache',
          client_secret: APACHE_SECRET,
          redirect_uris: [RP_REDIRECT],
          authorization_error_iss: false,
        },
      ],
    });
    interop.rp = await rpConfig(interop.gw.issuer);
    interop.apache = await rpConfig(interop.gw.issuer, 'rp-apache', APACHE_SECRET);
  });
  afterAll(async () => {
    await interop.gw.close();
  });
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${interop.gw.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

/** A full login through the mock provider, then the token exchange by openid-client. */
export async function loginAndExchange(config = interop.rp, params: Record<string, string> = {}) {
  const login = await loginThroughMock(config, params);
  expect(login.callback?.searchParams.get('error')).toBeNull();
  const tokens = await oidc.authorizationCodeGrant(config, login.callback!, {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
  return { login, tokens };
}

/** A fresh code for `rp-post` or `rp` as a form for the token endpoint (without client authentication). */
export async function codeForm(config = interop.rp) {
  const login = await loginThroughMock(config);
  const code = login.callback!.searchParams.get('code')!;
  return { grant_type: 'authorization_code', code, code_verifier: login.verifier, redirect_uri: RP_REDIRECT };
}

/** The parameters of a redirect back to the service, from the query or the fragment. */
export function rpParams(hop: Hop): URLSearchParams {
  expect(hop.status).toBe(303);
  const url = new URL(hop.location!);
  expect(url.origin + url.pathname).toBe(RP_REDIRECT);
  return url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
}

export async function authorizationForm(params: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  return {
    verifier,
    form: {
      client_id: 'rp',
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid profile personal_code',
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...params,
    },
  };
}

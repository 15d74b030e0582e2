// The userinfo endpoint and token revocation, pushed authorization requests (RFC 9126, FAPI 2.0) and
// DPoP-bound access tokens (RFC 9449), held to the conformance plans' OP checks (./oidc-checklist-kit.ts).
import * as oidc from 'openid-client';
import { SignJWT } from 'jose';
import { Browser } from '../support/browser.ts';
import {
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_REDIRECT,
  RP_SECRET,
} from '../support/gateway.ts';
import {
  useChecklistGateway,
  describeLogsFreeOfSecrets,
  keys,
  clock,
  exchange,
  loginAndExchange,
  basic,
  POST_SECRET,
} from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();

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
      .sign(keys.rpKey);
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
    clock.offset = 3600 * 1000;
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

describeLogsFreeOfSecrets(() => [gw.logLines]);

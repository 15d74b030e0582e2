// End to end: openid-client plays the agency service, the gateway brokers to the mock provider, and the
// ID token is validated against the gateway's JWKS by the client library itself.
import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import { generateKeyPair, exportJWK, decodeJwt, decodeProtectedHeader } from 'jose';
import { MemoryStore } from '../../src/store/memory.ts';
import { Browser, formFields } from '../support/browser.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import {
  useGateway,
  WatchedAuditLog,
  rpConfig,
  exchangeCode,
  beginLogin,
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_REDIRECT,
  MOCK_PROVIDER,
} from '../support/gateway.ts';

let clock = 0;
const store = new MemoryStore(() => Date.now() + clock);
const audit = new WatchedAuditLog();
let rpKey: import('jose').CryptoKey;
const PAIRWISE_SALT = 'pairwise-salt-for-tests-0123456789';

const gw = useGateway(async ({ cleanup }) => {
  cleanup(() => store.close());
  const keys = await generateKeyPair('ES256', { extractable: true });
  rpKey = keys.privateKey;
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'rp-key-1', alg: 'ES256', use: 'sig' };
  return {
    store,
    audit,
    settings: { pairwise_salt: PAIRWISE_SALT },
    clients: [
      {
        client_id: 'rp-post',
        client_secret: 'rp-post-secret-0123456789-0123456789',
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [RP_REDIRECT],
        id_token_signed_response_alg: 'ES256',
      },
      {
        client_id: 'rp-jwt',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        redirect_uris: [RP_REDIRECT],
        id_token_signed_response_alg: 'RS256',
      },
      {
        client_id: 'rp-pairwise',
        client_secret: 'rp-pairwise-secret-0123456789-012345',
        redirect_uris: [RP_REDIRECT],
        subject_type: 'pairwise',
        scopes: ['profile'],
      },
      {
        client_id: 'rp-bank-only',
        client_secret: 'rp-bank-secret-0123456789-0123456789',
        redirect_uris: [RP_REDIRECT],
        providers: ['mock-bank'],
      },
    ],
  };
});
afterEach(() => {
  clock = 0;
});

describe('happy path', () => {
  test('a full login yields a verified ID token with separate, normalised claims', async () => {
    const login = await loginThroughMock(gw.rp, { acr_values: 'substantial' });
    expect(login.callback?.searchParams.get('state')).toBe(login.state);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const claims = tokens.claims()!;
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('PS256');
    expect(claims).toMatchObject({
      iss: gw.issuer,
      aud: 'rp',
      sub: 'PNOLV-010180-15097',
      given_name: 'Jānis',
      family_name: 'Bērziņš',
      birthdate: '1980-01-01',
      personal_code: '010180-15097',
      personal_code_country: 'LV',
      acr: 'high',
      amr: ['mock'],
      idp: 'mock-eid',
      nonce: login.nonce,
    });
    const info = await oidc.fetchUserInfo(gw.rp, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: 'PNOLV-010180-15097', personal_code: '010180-15097', given_name: 'Jānis' });
  });

  test('the event sequence of a login is audited under one correlation id', async () => {
    const login = await loginThroughMock(gw.rp);
    await exchangeCode(gw.rp, login, login.callback!);
    const corr = audit.events.filter((e) => e.type === 'provider_chosen').at(-1)!.correlationId!;
    // tokens_issued is recorded from an engine event after the token response: wait for that record
    await audit.recorded((e) => e.type === 'tokens_issued' && e.correlationId === corr);
    expect(audit.events.filter((e) => e.correlationId === corr).map((e) => e.type)).toEqual([
      'authorization_request',
      'provider_chosen',
      'provider_request',
      'provider_response',
      'verification',
      'identity_released',
      'tokens_issued',
    ]);
  });

  test("startup is audited: the configuration digest and each provider's onboarding verdict", async () => {
    const audit = gw.audit as unknown as {
      events: { type: string; providerId?: string; detail?: Record<string, unknown> }[];
    };
    expect(audit.events.find((e) => e.type === 'config_loaded')?.detail?.digest).toBe(gw.config.digest);
    const registry = audit.events.filter((e) => e.type === 'registry_change');
    expect(registry.map((e) => [e.providerId, e.detail?.offered, e.detail?.stage])).toEqual([
      ['mock-eid', true, 'production'],
      ['mock-bank', true, 'production'],
    ]);
  });

  test('scope openid alone releases no names or personal code', async () => {
    const login = await loginThroughMock(gw.rp, { scope: 'openid' });
    const claims = (await exchangeCode(gw.rp, login, login.callback!)).claims()!;
    expect(claims.sub).toBe('PNOLV-010180-15097');
    expect(claims).not.toHaveProperty('given_name');
    expect(claims).not.toHaveProperty('personal_code');
    expect(claims).toMatchObject({ acr: 'high', idp: 'mock-eid' });
  });

  test('new-format Latvian and Estonian codes are released canonically, without a birthdate for the new format', async () => {
    const lv = await loginThroughMock(gw.rp, {}, 1);
    expect((await exchangeCode(gw.rp, lv, lv.callback!)).claims()).toMatchObject({
      sub: 'PNOLV-325035-11782',
      personal_code: '325035-11782',
    });
    const ee = await loginThroughMock(gw.rp, {}, 2);
    const claims = (await exchangeCode(gw.rp, ee, ee.callback!)).claims()!;
    expect(claims).toMatchObject({ sub: 'PNOEE-60001019906', personal_code_country: 'EE', birthdate: '2000-01-01' });
  });

  test('client_secret_post with an ES256 ID token', async () => {
    const config = await rpConfig(
      gw.issuer,
      'rp-post',
      'rp-post-secret-0123456789-0123456789',
      oidc.ClientSecretPost('rp-post-secret-0123456789-0123456789'),
      { id_token_signed_response_alg: 'ES256' },
    );
    const login = await loginThroughMock(config);
    const tokens = await exchangeCode(config, login, login.callback!);
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('ES256');
  });

  test('private_key_jwt with an RS256 ID token for an older client', async () => {
    const config = await rpConfig(gw.issuer, 'rp-jwt', undefined, oidc.PrivateKeyJwt({ key: rpKey, kid: 'rp-key-1' }), {
      id_token_signed_response_alg: 'RS256',
    });
    const login = await loginThroughMock(config);
    const tokens = await exchangeCode(config, login, login.callback!);
    expect(decodeProtectedHeader(tokens.id_token!).alg).toBe('RS256');
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('a pairwise client gets a stable identifier that is not the personal code, and never the code itself', async () => {
    const config = await rpConfig(gw.issuer, 'rp-pairwise', 'rp-pairwise-secret-0123456789-012345');
    const scope = { scope: 'openid profile' };
    const a = await loginThroughMock(config, scope);
    const b = await loginThroughMock(config, scope);
    const tokensA = await exchangeCode(config, a, a.callback!);
    const subA = tokensA.claims()!.sub;
    const subB = (await exchangeCode(config, b, b.callback!)).claims()!.sub;
    expect(subA).toBe(subB);
    expect(subA).not.toContain('010180');
    // keyed by the configured salt, over the sector (the host of the redirect URIs) and the person: without the
    // salt nobody computes it from a personal code, and services of one sector share it
    const sector = new URL(RP_REDIRECT).host;
    const keyed = createHmac('sha256', PAIRWISE_SALT).update(`${sector}|PNOLV-010180-15097`).digest('base64url');
    expect(subA).toBe(keyed);
    expect(JSON.stringify(tokensA.claims())).not.toMatch(/010180|personal_code/);
    // asking for the personal code is refused: the code would link the person across services
    const asked = await beginLogin(config, {});
    const refused = new URL(asked.hop.location!);
    expect(refused.origin + refused.pathname).toBe(RP_REDIRECT);
    expect(refused.searchParams.get('error')).toBe('invalid_scope');
  });

  test('idp_hint skips the selection page', async () => {
    const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid' });
    const hop = await started.browser.follow(
      started.hop,
      (h) => !!h.location?.includes('/providers/mock-eid/authorize'),
    );
    expect(hop.location).toContain('/providers/mock-eid/authorize');
  });

  test('acr_values filters the selection page to providers at or above the level', async () => {
    const started = await beginLogin(gw.rp, { acr_values: 'high' });
    const page = await started.browser.follow(started.hop);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-provider="mock-eid"');
    expect(page.body).not.toContain('data-provider="mock-bank"');
    const all = await beginLogin(gw.rp, { acr_values: 'low' });
    const allPage = await all.browser.follow(all.hop);
    expect(allPage.body).toContain('data-provider="mock-bank"');
  });

  /** The logout `url` asks for (by GET, or by POST with its parameters as the form), confirmed on the
   * engine's page: it ends at the service's logout URI. */
  async function confirmLogout(browser: Browser, url: URL, method: 'GET' | 'POST' = 'GET'): Promise<void> {
    const confirm =
      method === 'GET'
        ? await browser.get(url.toString())
        : await browser.post(`${url.origin}${url.pathname}`, Object.fromEntries(url.searchParams));
    expect(confirm.status).toBe(200);
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm.body);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form![2]!)![1]!;
    const done = await browser.follow(
      await browser.post(new URL(form![1]!, gw.issuer).toString(), { xsrf, logout: 'yes' }),
      (h) => !!h.location?.startsWith('https://rp.example.test/bye'),
    );
    expect(done.location).toContain('https://rp.example.test/bye');
  }

  test('RP-initiated logout ends the session', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example.test/bye',
    });
    await confirmLogout(login.browser, url);
    // recorded as the service's request
    const logouts = (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'logout');
    expect(logouts.at(-1)).toMatchObject({ clientId: 'rp', detail: { initiator: 'service' } });
  });

  test('RP-initiated logout by POST (RP-Initiated Logout 1.0 section 2): the ID token stays out of every URL', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example.test/bye',
    });
    await confirmLogout(login.browser, url, 'POST');
    const urls = login.browser.history.map((h) => `${h.url} ${h.location ?? ''}`).join('\n');
    expect(urls).not.toContain(tokens.id_token!.slice(0, 40));
    // the session is over: the token's account is no longer logged in at the engine
    const again = await login.browser.get(url.toString());
    expect(again.body).not.toContain('op.logoutForm');
  });

  test('RP-initiated logout naming the client instead of the ID token (which carries the personal code): no token in any URL', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, { post_logout_redirect_uri: 'https://rp.example.test/bye' });
    expect(url.searchParams.get('client_id')).toBe(gw.rp.clientMetadata().client_id);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    await confirmLogout(login.browser, url);
    const urls = login.browser.history.map((h) => `${h.url} ${h.location ?? ''}`).join('\n');
    expect(urls).not.toContain(tokens.id_token!.slice(0, 40));
    expect(urls).not.toContain('010180');
  });
});

test('RP-initiated logout asked in Russian says it is done in Russian too, whatever the browser prefers', async () => {
  const login = await loginThroughMock(gw.rp, { ui_locales: 'ru' });
  const b = login.browser;
  const ask = await b.get(`${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', ui_locales: 'ru' })}`);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)![1]!;
  const done = await b.follow(
    await b.post(`${gw.issuer}/session/end/confirm`, { xsrf, logout: 'yes' }),
    (h) => h.status === 200,
  );
  for (const page of [ask, done]) expect(/<html lang="(\w+)"/.exec(page.body)?.[1]).toBe('ru');
});

test("the logout confirmation names the service and lets the user decline, which still returns to the service's logout URI", async () => {
  const login = await loginThroughMock(gw.rp);
  const b = login.browser;
  const ask = await b.get(
    `${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: 'https://rp.example.test/bye' })}`,
  );
  expect(ask.body).toContain('Logging out of the e-service <strong>Test e-service</strong>');
  expect(ask.body).toMatch(/<button class="secondary" form="op.logoutForm" type="submit">No, return to the e-service</);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)![1]!;
  // the "No" button posts the form without `logout`
  const back = await b.post(`${gw.issuer}/session/end/confirm`, { xsrf });
  expect(back.location).toBe('https://rp.example.test/bye');
});

test('a logout the engine refuses (an unregistered logout URI): "Logout failed", with the way back to the service', async () => {
  const page = await fetch(
    `${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: 'https://evil.example/bye' })}`,
    { headers: { accept: 'text/html', 'accept-language': 'en' } },
  );
  expect(page.status).toBe(400);
  const body = await page.text();
  expect(body).toContain('<h1>Logout failed</h1>');
  expect(body).toContain('<a class="button" href="https://rp.example.test/">Return to the e-service</a>');
});

describe('refusals the agency service sees', () => {
  const rpError = async (params: Record<string, string>) => {
    const started = await beginLogin(gw.rp, params);
    expect(started.hop.status).toBe(303);
    const url = new URL(started.hop.location!);
    expect(url.origin + url.pathname).toBe(RP_REDIRECT);
    return url.searchParams;
  };

  test('missing PKCE', async () => {
    const q = await rpError({ code_challenge: '', code_challenge_method: '' });
    expect(q.get('error')).toBe('invalid_request');
  });

  test('plain PKCE', async () => {
    const q = await rpError({ code_challenge_method: 'plain' });
    expect(q.get('error')).toBe('invalid_request');
  });

  test('state missing or shorter than 8 characters', async () => {
    expect((await rpError({ state: 'short' })).get('error')).toBe('invalid_request');
    expect((await rpError({ state: '' })).get('error_description')).toMatch(/state/);
  });

  test('acr_values above what the named provider offers', async () => {
    const q = await rpError({ acr_values: 'high', idp_hint: 'mock-bank' });
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('error_description')).toMatch(/idp_hint/);
  });

  test('acr_values above what any provider offers this client', async () => {
    const config = await rpConfig(gw.issuer, 'rp-bank-only', 'rp-bank-secret-0123456789-0123456789');
    const started = await beginLogin(config, { acr_values: 'high' });
    const q = new URL(started.hop.location!).searchParams;
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('error_description')).toBe('no provider offers level high to this client');
  });

  test('unknown acr_values', async () => {
    expect((await rpError({ acr_values: 'urn:nope' })).get('error')).toBe('invalid_request');
  });

  test('unknown idp_hint', async () => {
    expect((await rpError({ idp_hint: 'no-such-bank' })).get('error')).toBe('invalid_request');
  });

  test('redirect_uri not registered: an error page, never a redirect', async () => {
    const started = await beginLogin(gw.rp, { redirect_uri: 'https://evil.example/cb' });
    expect(started.hop.status).toBe(400);
    expect(started.hop.location).toBeUndefined();
    expect(started.hop.body).toContain('return address is not registered');
    // the way back is the registered service's home page, never the address the request named
    expect(started.hop.body).toContain('<a class="button" href="https://rp.example.test/">');
    expect(started.hop.body).not.toContain('evil.example');
  });

  test('wrong code_verifier: invalid_grant', async () => {
    const login = await loginThroughMock(gw.rp);
    await expect(
      exchangeCode(gw.rp, { ...login, verifier: oidc.randomPKCECodeVerifier() }, login.callback!),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('authorization code reuse: invalid_grant', async () => {
    const login = await loginThroughMock(gw.rp);
    await exchangeCode(gw.rp, login, login.callback!);
    await expect(exchangeCode(gw.rp, login, login.callback!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('user cancels at the provider: error=user_cancel', async () => {
    const login = await loginThroughMock(gw.rp, {}, 'cancel');
    expect(login.callback?.searchParams.get('error')).toBe('user_cancel');
    expect(login.callback?.searchParams.get('state')).toBe(login.state);
  });

  test('the provider reports an outage: the user is told, the service gets temporarily_unavailable', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const refused = await started.browser.follow(await mockProviderLogin(started.browser, authorize, 'outage'));
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('The provider is temporarily unavailable');
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
  });

  test('user cancels on the selection page: error=user_cancel', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const abort = await started.browser.post(`${page.url}/abort`, {});
    const final = await started.browser.follow(abort, atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('user_cancel');
  });

  test('an invalid personal code from the provider is refused: the user is told, the service gets access_denied', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 3);
    const refused = await started.browser.follow(back);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('answer could not be verified');
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
    expect(gw.logLines.join('\n')).not.toContain('123456-12345');
  });
});

describe('broker state', () => {
  async function atProvider(params: Record<string, string> = {}) {
    const started = await beginLogin(gw.rp, params);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 0);
    return { ...started, back: new URL(back.location!) };
  }

  test('tampered state: refused with an error page', async () => {
    const { browser, back } = await atProvider();
    back.searchParams.set(
      'state',
      back.searchParams.get('state')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    );
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('expired or was already used');
  });

  test('replayed state: the second delivery is refused', async () => {
    const { browser, back } = await atProvider();
    const first = await browser.get(back.toString());
    expect(first.status).toBe(303);
    const again = await new Browser().get(back.toString());
    expect(again.status).toBe(400);
  });

  test('an answer after the login expired (ttl.login): told so in the login’s language, the way back tells the service', async () => {
    const { browser, back } = await atProvider({ ui_locales: 'lv' }); // the browser prefers English
    clock = (gw.config.ttl.login + 1) * 1000; // the interaction (ttl.interaction) still lives
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('<html lang="lv"');
    expect(hop.body).toContain('Pieslēgšanās ilga pārāk ilgi');
    const end = /<form method="post" action="([^"]+\/abort)">([\s\S]*?)<\/form>/.exec(hop.body)!;
    const atService = await browser.follow(
      await browser.post(new URL(end[1]!, gw.issuer).toString(), formFields(end[2]!)),
      atRp,
    );
    const answer = new URL(atService.location!).searchParams;
    expect(answer.get('error')).toBe('access_denied');
    expect(answer.get('error_description')).toBe('the login expired while the user was at the provider');
  });

  test('an answer after the interaction expired too: refused, nothing known of the login', async () => {
    const { browser, back } = await atProvider();
    clock = (gw.config.ttl.interaction + 1) * 1000;
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('expired or was already used');
  });

  test('unknown provider chosen on the selection page', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const hop = await chooseProvider(started.browser, page.url, 'no-such-provider');
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('Unknown authentication means');
  });

  test('a provider the client may not use is refused even when posted directly', async () => {
    const config = await rpConfig(gw.issuer, 'rp-bank-only', 'rp-bank-secret-0123456789-0123456789');
    const started = await beginLogin(config);
    const page = await started.browser.follow(started.hop);
    expect(page.body).not.toContain('data-provider="mock-eid"');
    expect((await chooseProvider(started.browser, page.url, 'mock-eid')).status).toBe(400);
  });
});

test('fail closed: while the audit log cannot be written no login starts, and the service hears temporarily_unavailable', async () => {
  const audit = gw.audit as unknown as { failing: boolean };
  audit.failing = true;
  try {
    const started = await beginLogin(gw.rp);
    const final = await started.browser.follow(started.hop, atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
    expect(final.location).not.toContain('code=');
    expect(gw.logLines.some((l) => l.includes('"level":"error"') && l.includes('audit log unavailable'))).toBe(true);
  } finally {
    audit.failing = false;
  }
});

describe('malformed input never answers 500', () => {
  test.each([
    ['GET', '/interaction/nope'],
    ['GET', '/interaction/nope/complete'],
    ['POST', '/interaction/nope/provider'],
    ['POST', '/interaction/nope/abort'],
    ['GET', '/broker/callback/mock-eid'],
    ['GET', '/broker/callback/mock-eid?state=x&assertion=y'],
    ['GET', '/broker/callback/mock-eid?state[]=x'],
    ['POST', '/broker/callback/mock-eid'],
    ['GET', '/broker/callback/unknown?state=AAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['GET', '/auth'],
    ['GET', '/auth?client_id=nope&response_type=code'],
    ['POST', '/token'],
    ['GET', '/me'],
    ['GET', '/providers/mock-eid/authorize'],
    ['POST', '/providers/mock-eid/decide'],
    ['GET', '/no/such/page'],
  ])('%s %s', async (method, path) => {
    const res = await fetch(gw.issuer + path, {
      method,
      redirect: 'manual',
      headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {},
      body: method === 'POST' ? 'a=b' : undefined,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  test('an oversized callback body answers 400 with an audit record', async () => {
    const res = await fetch(`${gw.issuer}/broker/callback/mock-eid`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `x=${'a'.repeat(600_000)}`,
    });
    expect(res.status).toBe(400);
    const audit = gw.audit as unknown as {
      events: { type: string; providerId?: string; detail?: { reason?: string } }[];
    };
    expect(audit.events.at(-1)).toMatchObject({
      type: 'provider_response_error',
      providerId: 'mock-eid',
      detail: { reason: expect.stringContaining('callback body larger than') },
    });
  });

  test('a garbage assertion with a valid state maps to an OAuth error, not a crash', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const state = new URL(authorize.location!).searchParams.get('state')!;
    const hop = await started.browser.get(`${gw.issuer}/broker/callback/mock-eid?state=${state}&assertion=not.a.jwt`);
    expect(hop.status).toBe(400);
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(hop.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
  });
});

test('ID tokens are signed with keys published in the JWKS', async () => {
  const jwks = (await (await fetch(`${gw.issuer}/jwks`)).json()) as { keys: { kid: string; d?: string }[] };
  expect(jwks.keys.length).toBeGreaterThanOrEqual(2);
  expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  const login = await loginThroughMock(gw.rp);
  const tokens = await exchangeCode(gw.rp, login, login.callback!);
  expect(jwks.keys.map((k) => k.kid)).toContain(decodeProtectedHeader(tokens.id_token!).kid);
  expect(decodeJwt(tokens.id_token!).exp! - decodeJwt(tokens.id_token!).iat!).toBe(gw.config.ttl.id_token);
});

describe('names that would display as someone else', () => {
  // a provider (or whoever forged its answer) sends a family name with a right-to-left override:
  // "Bērziņš\u202E..." renders reversed on the agency's page
  const users = [
    { given_name: 'Jānis', family_name: 'Bērziņš\u202Esnalak', personal_code: '010180-15097' },
    { given_name: 'Jā\u200Bnis', family_name: 'Bērziņš', personal_code: '010180-15097' },
    // invisible, but neither control nor format characters: a variation selector, a combining grapheme
    // joiner, a Hangul filler
    { given_name: 'Jānis\uFE0F', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: 'Bēr\u034Fziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis\u3164', family_name: 'Bērziņš', personal_code: '010180-15097' },
    // a Braille blank, a non-character, an unassigned code point, a stack of combining marks
    { given_name: 'Jānis\u2800', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: 'Bērziņš\uFFFF', personal_code: '010180-15097' },
    { given_name: 'Jā\u0378nis', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: `Bērziņš${'\u0336'.repeat(8)}`, personal_code: '010180-15097' },
    // no letter at all: a blank-looking name, or punctuation alone
    { given_name: '\u2800', family_name: 'Bērziņš', personal_code: '010180-15097' },
    { given_name: 'Jānis', family_name: '-.', personal_code: '010180-15097' },
  ];
  const spoofGw = useGateway({ providers: [{ ...MOCK_PROVIDER, users }] });

  test.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])(
    'a bidi override or an invisible character in a name (test person %i): refused, the service gets access_denied',
    async (user) => {
      const started = await beginLogin(spoofGw.rp);
      const page = await started.browser.follow(started.hop);
      const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
      const refused = await started.browser.follow(await mockProviderLogin(started.browser, authorize, user));
      expect(refused.status).toBe(400);
      expect(refused.body).toContain('answer could not be verified');
      const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
      const final = await started.browser.follow(
        await started.browser.get(new URL(link, spoofGw.issuer).toString()),
        atRp,
      );
      expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
      const reasons = (spoofGw.audit as MemoryAuditLog).events
        .filter((e) => e.type === 'verification_error')
        .map((e) => String(e.detail?.reason));
      expect(reasons.at(-1)).toMatch(user === 10 ? /family name has no letter/ : /name contains forbidden characters/);
    },
  );
});

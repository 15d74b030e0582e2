// End to end, a login: openid-client plays the agency service, the gateway brokers to the mock provider, and
// the ID token is validated against the gateway's JWKS by the client library itself (./core-gateway.ts).
import { createHmac } from 'node:crypto';
import * as oidc from 'openid-client';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { rpConfig, exchangeCode, beginLogin, loginThroughMock, RP_REDIRECT } from '../support/gateway.ts';
import { useCoreGateway, audit, keys, PAIRWISE_SALT } from './core-gateway.ts';

const gw = useCoreGateway();

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
    const config = await rpConfig(
      gw.issuer,
      'rp-jwt',
      undefined,
      oidc.PrivateKeyJwt({ key: keys.rpKey, kid: 'rp-key-1' }),
      {
        id_token_signed_response_alg: 'RS256',
      },
    );
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

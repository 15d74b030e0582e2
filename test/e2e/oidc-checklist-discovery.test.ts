// The gateway's OpenID provider metadata and ID tokens, held to the OpenID Foundation conformance plans' OP
// checks (what ./oidc-checklist-kit.ts shares).
import { UnsecuredJWT, decodeJwt, decodeProtectedHeader, createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { startGateway, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { useChecklistGateway, describeLogsFreeOfSecrets, loginAndExchange } from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();

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

describeLogsFreeOfSecrets(() => [gw.logLines]);

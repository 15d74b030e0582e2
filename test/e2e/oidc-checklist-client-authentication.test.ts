// Client authentication at the token endpoint: client_secret_basic, client_secret_post and private_key_jwt
// assertions (RFC 7523; audience, expiry, reuse, keys and algorithms), each client by its registered method
// only (./oidc-checklist-kit.ts).
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { clientAssertion } from '../support/client-assertion.ts';
import { rpConfig, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import {
  useChecklistGateway,
  describeLogsFreeOfSecrets,
  remember,
  keys,
  loginAndExchange,
  tokenRequest,
  basic,
  freshCode,
  POST_SECRET,
} from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();

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
      config = await rpConfig(gw.issuer, 'rp-jwt', undefined, oidc.PrivateKeyJwt({ key: keys.rpKey, kid: 'rp-key-1' }));
    });
    const assertion = async (
      claims: { aud?: string | string[] | null; exp?: number | null; jti?: string | null; iss?: string } = {},
      key: CryptoKey = keys.rpKey,
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
      const ed = await rpConfig(
        gw.issuer,
        'rp-ed25519',
        undefined,
        oidc.PrivateKeyJwt({ key: keys.edKey, kid: 'rp-ed-1' }),
      );
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
      expect(await withAssertion(await assertion({}, keys.otherKey))).toMatchObject({
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

describeLogsFreeOfSecrets(() => [gw.logLines]);

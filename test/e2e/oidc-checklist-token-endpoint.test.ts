// The token endpoint's code redemption: single use (also under concurrency, on Redis), client and
// redirect_uri binding, expiry, PKCE, and the grants it refuses (RFC 6749, RFC 7636, RFC 7523 3; the OpenID
// Foundation conformance plans, ./oidc-checklist-kit.ts).
import * as oidc from 'openid-client';
import { clientAssertion } from '../support/client-assertion.ts';
import { useGateway, rpConfig, loginThroughMock, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';
import {
  keys,
  remember,
  useChecklistGateway,
  describeLogsFreeOfSecrets,
  clock,
  exchange,
  loginAndExchange,
  rpParams,
  rawAuthorize,
  tokenRequest,
  basic,
  freshCode,
  expectOneRedemptionAtMost,
  POST_SECRET,
} from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();
/** the concurrency cases' own gateway, on Redis */
const rgw = useGateway(({ cleanup }) => ({
  store: testRedisStore(testPrefix(), cleanup),
  clients: [
    {
      client_id: 'rp-jwt',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [keys.rpJwk] },
      redirect_uris: [RP_REDIRECT],
    },
  ],
}));

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
    clock.offset = (gw.config.ttl.authorization_code + 1) * 1000;
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

describe('single use under concurrency, on the Redis store (real round trips let the requests interleave)', () => {
  test('one client assertion sent with several requests at once authenticates one of them at most', async () => {
    const config = await rpConfig(
      rgw.issuer,
      'rp-jwt',
      undefined,
      oidc.PrivateKeyJwt({ key: keys.rpKey, kid: 'rp-key-1' }),
    );
    for (let round = 0; round < 3; round += 1) {
      const logins = await Promise.all([1, 2, 3].map(() => loginThroughMock(config)));
      const { jwt: assertion } = await clientAssertion({ key: keys.rpKey, kid: 'rp-key-1' }, 'rp-jwt', rgw.issuer);
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
          return (await tokenRequest(form, {}, rgw.issuer)).status;
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

describeLogsFreeOfSecrets(() => [gw.logLines, rgw.logLines]);

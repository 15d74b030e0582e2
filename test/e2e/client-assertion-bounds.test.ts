// A private_key_jwt client assertion is held to bounds at every endpoint that authenticates clients (token,
// pushed authorization requests, revocation), on the Redis store: an exp far ahead, an iat in the future or
// an audience naming another party beside this server is invalid_client, and an accepted assertion's
// replay marker lives no longer than the assertion may (src/oidc/client-assertion.ts).
import { createHash } from 'node:crypto';
import { expect, test } from '@jest/globals';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as oidc from 'openid-client';
import { ASSERTION_MAX_SECONDS, CLOCK_TOLERANCE_SECONDS } from '../../src/oidc/client-assertion.ts';
import type { RedisStore } from '../../src/store/redis.ts';
import { ASSERTION_TYPE, clientAssertion } from '../support/client-assertion.ts';
import { RP_REDIRECT, useGateway } from '../support/gateway.ts';
import { type JtiRace, jtiRace } from '../support/jti-race.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const prefix = testPrefix();
let redis: RedisStore;
let race: JtiRace<RedisStore>;
let key: CryptoKey;

const gw = useGateway(async ({ cleanup }) => {
  race = jtiRace(testRedisStore(prefix, cleanup));
  redis = race.store;
  const pair = await generateKeyPair('ES256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'rp-jwt-1', alg: 'ES256', use: 'sig' };
  const client = { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [jwk] }, redirect_uris: [RP_REDIRECT] };
  return { store: redis, clients: [{ client_id: 'rp-jwt', ...client }] };
});

const epoch = () => Math.floor(Date.now() / 1000);
const YEAR = 365 * 24 * 3600;

const assertion = (claims: Record<string, unknown> = {}) =>
  clientAssertion({ key, kid: 'rp-jwt-1' }, 'rp-jwt', gw.issuer, claims);

/** What each endpoint that authenticates clients answers once the client is authenticated. */
const ENDPOINTS = {
  // a made-up code: invalid_grant once the client passed
  '/token': {
    status: 400,
    form: () => ({
      grant_type: 'authorization_code',
      code: 'made-up',
      redirect_uri: RP_REDIRECT,
      code_verifier: 'a'.repeat(43),
    }),
  },
  '/request': {
    status: 201,
    form: async () => ({
      response_type: 'code',
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      state: oidc.randomState(),
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    }),
  },
  '/token/revocation': { status: 200, form: () => ({ token: 'made-up' }) },
} as const;

/** The status and error of `path` for a request authenticated by `jwt`. */
async function at(path: keyof typeof ENDPOINTS, jwt: string) {
  const res = await fetch(`${gw.issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...(await ENDPOINTS[path].form()),
      client_id: 'rp-jwt',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    }),
  });
  const body = await res.text();
  return { status: res.status, error: res.status === ENDPOINTS[path].status ? 'none' : JSON.parse(body).error };
}

const PATHS = Object.keys(ENDPOINTS) as (keyof typeof ENDPOINTS)[];

async function expectVerdict(claims: Record<string, unknown>, accepted: boolean) {
  for (const path of PATHS) {
    const verdict = await at(path, (await assertion(claims)).jwt);
    expect({ path, claims, ...verdict }).toEqual({
      path,
      claims,
      ...(accepted ? { status: ENDPOINTS[path].status, error: 'none' } : { status: 401, error: 'invalid_client' }),
    });
  }
}

test('the discovery document names the endpoints these tests attack', async () => {
  const meta = (await (await fetch(`${gw.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  expect(meta.token_endpoint).toBe(`${gw.issuer}/token`);
  expect(meta.pushed_authorization_request_endpoint).toBe(`${gw.issuer}/request`);
  expect(meta.revocation_endpoint).toBe(`${gw.issuer}/token/revocation`);
  expect(meta.introspection_endpoint).toBeUndefined();
});

test('exp: up to five minutes ahead is accepted everywhere; further (a hundred years) is invalid_client', async () => {
  await expectVerdict({ exp: epoch() + ASSERTION_MAX_SECONDS }, true);
  await expectVerdict({ exp: epoch() + ASSERTION_MAX_SECONDS + 60 }, false);
  await expectVerdict({ exp: epoch() + 100 * YEAR }, false);
  // the operator sees why, by client and endpoint
  const warned = gw.logLines.filter((l) => l.includes('client assertion refused')).map((l) => JSON.parse(l));
  expect(warned).toContainEqual(
    expect.objectContaining({
      clientId: 'rp-jwt',
      endpoint: 'pushed_authorization_request',
      problem: expect.stringMatching(/^exp/),
    }),
  );
});

test('iat: up to 10 s ahead is accepted (FAPI 2.0); a minute or a year ahead is invalid_client', async () => {
  await expectVerdict({ iat: epoch() + 10 }, true);
  await expectVerdict({ iat: epoch() + 60, exp: epoch() + 120 }, false);
  await expectVerdict({ iat: epoch() + YEAR, exp: epoch() + YEAR + 60 }, false);
});

test('aud: the issuer, the token endpoint or both; another party named beside them is invalid_client', async () => {
  await expectVerdict({ aud: [gw.issuer, `${gw.issuer}/token`] }, true);
  await expectVerdict({ aud: ['https://evil.example', gw.issuer] }, false);
  await expectVerdict({ aud: [`${gw.issuer}/token`, 'https://evil.example/token'] }, false);
  // RFC 9126 2: the PAR endpoint names this server at PAR, not elsewhere
  const par = await assertion({ aud: `${gw.issuer}/request` });
  expect(await at('/request', par.jwt)).toEqual({ status: 201, error: 'none' });
  expect(await at('/token', (await assertion({ aud: `${gw.issuer}/request` })).jwt)).toEqual({
    status: 401,
    error: 'invalid_client',
  });
  expect(await at('/token/revocation', (await assertion({ aud: `${gw.issuer}/request` })).jwt)).toEqual({
    status: 401,
    error: 'invalid_client',
  });
});

test("an assertion's replay marker lives as long as the assertion may, and a refused one leaves none", async () => {
  const marker = (jti: string) =>
    `${prefix}oidc:ReplayDetection:${createHash('sha256').update(`rp-jwt${jti}`).digest('base64url')}`;
  const longest = await assertion({ exp: epoch() + ASSERTION_MAX_SECONDS });
  expect((await at('/token', longest.jwt)).error).toBe('none');
  const ttl = await redis.client.ttl(marker(longest.jti));
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(ASSERTION_MAX_SECONDS + 2 * CLOCK_TOLERANCE_SECONDS);
  // used again, it is refused
  expect(await at('/token', longest.jwt)).toEqual({ status: 401, error: 'invalid_client' });
  const century = await assertion({ exp: epoch() + 100 * YEAR });
  expect(await at('/token', century.jwt)).toEqual({ status: 401, error: 'invalid_client' });
  expect(await redis.client.exists(marker(century.jti))).toBe(0);
});

test('one assertion sent in several requests at once authenticates one of them only', async () => {
  // each request may find the assertion's jti unused before any has recorded it: recording it decides. The first
  // record waits until a second request has looked the jti up (../support/jti-race.ts), so they all may.
  const { jwt } = await assertion();
  race.arm();
  const verdicts = await Promise.all(Array.from({ length: 16 }, () => at('/request', jwt)));
  expect(race.happened).toBe(true);
  expect(verdicts.filter((v) => v.error === 'none')).toHaveLength(1);
  expect(verdicts.filter((v) => v.error !== 'none')).toEqual(
    Array.from({ length: 15 }, () => ({ status: 401, error: 'invalid_client' })),
  );
});

// One DPoP proof (RFC 9449) sent with a DPoP-bound access token in several requests at once, on the Redis store:
// each request may find the proof's jti unused before any has recorded it, and the first record waits until a
// second request has looked it up (../support/jti-race.ts). Recording it decides: one request is served, every
// other is refused as a replayed proof (RFC 9449 11.1), never a server error.
import { createHash, randomUUID } from 'node:crypto';
import { expect, test } from '@jest/globals';
import { exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { RedisStore } from '../../src/store/redis.ts';
import { loginThroughMock, RP_REDIRECT, RP_SECRET, useGateway } from '../support/gateway.ts';
import { type JtiRace, jtiRace } from '../support/jti-race.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const prefix = testPrefix();
let race: JtiRace<RedisStore>;

const gw = useGateway(({ cleanup }) => {
  race = jtiRace(testRedisStore(prefix, cleanup));
  return { store: race.store };
});

/** A DPoP proof (RFC 9449 4.2) by `keys` for `htm` at `htu`, with the hash of the access token it goes with. */
async function proof(keys: oidc.CryptoKeyPair, htm: string, htu: string, accessToken?: string) {
  const ath = accessToken && createHash('sha256').update(accessToken).digest('base64url');
  return new SignJWT({ jti: randomUUID(), htm, htu, ...(ath ? { ath } : {}) })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) })
    .setIssuedAt()
    .sign(keys.privateKey);
}

/** A DPoP-bound access token, and a proof for reading the userinfo endpoint with it. */
async function boundToken() {
  const keys = await oidc.randomDPoPKeyPair('ES256');
  const login = await loginThroughMock(gw.rp);
  const tokens = await oidc.authorizationCodeGrant(
    gw.rp,
    login.callback!,
    { pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce },
    undefined,
    { DPoP: oidc.getDPoPHandle(gw.rp, keys) },
  );
  expect(tokens.token_type.toLowerCase()).toBe('dpop');
  return { accessToken: tokens.access_token, proof: await proof(keys, 'GET', `${gw.issuer}/me`, tokens.access_token) };
}

async function userinfo(accessToken: string, proof: string) {
  const res = await fetch(`${gw.issuer}/me`, { headers: { authorization: `DPoP ${accessToken}`, dpop: proof } });
  const challenge = res.headers.get('www-authenticate') ?? '';
  await res.text();
  return { status: res.status, error: /error="([^"]+)"/.exec(challenge)?.[1] ?? 'none' };
}

test('a proof used once serves the request; used again it is refused', async () => {
  const { accessToken, proof } = await boundToken();
  expect(await userinfo(accessToken, proof)).toEqual({ status: 200, error: 'none' });
  expect(await userinfo(accessToken, proof)).toEqual({ status: 401, error: 'invalid_dpop_proof' });
});

test('one proof sent in several requests at once serves one of them only', async () => {
  const { accessToken, proof } = await boundToken();
  race.arm();
  const verdicts = await Promise.all(Array.from({ length: 8 }, () => userinfo(accessToken, proof)));
  expect(race.happened).toBe(true);
  expect(verdicts.filter((v) => v.status === 200)).toHaveLength(1);
  expect(verdicts.filter((v) => v.status !== 200)).toEqual(
    Array.from({ length: 7 }, () => ({ status: 401, error: 'invalid_dpop_proof' })),
  );
});

test('at the token endpoint, a proof used again (for another code) is invalid_dpop_proof', async () => {
  const keys = await oidc.randomDPoPKeyPair('ES256');
  const once = await proof(keys, 'POST', `${gw.issuer}/token`);
  const redeem = async () => {
    const login = await loginThroughMock(gw.rp);
    const res = await fetch(`${gw.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop: once,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: login.callback!.searchParams.get('code')!,
        redirect_uri: RP_REDIRECT,
        code_verifier: login.verifier,
      }),
    });
    const body = (await res.json()) as { error?: string; token_type?: string };
    return { status: res.status, error: body.error ?? body.token_type };
  };
  expect(await redeem()).toEqual({ status: 200, error: 'DPoP' });
  expect(await redeem()).toEqual({ status: 400, error: 'invalid_dpop_proof' });
});

// Token key rotation across two instances on one Redis, as relying parties see it: openid-client verifying
// ID token signatures with its JWKS cache (enableNonRepudiationChecks: refetch on an unknown kid only once
// its copy is 60 s old), and jose's createRemoteJWKSet. Every ID token's kid must be in the JWKS served by
// every instance at the moment it is issued; the key a rotation replaces stays published until every token
// it signed (and every session that may send one back as id_token_hint) has expired, and not longer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { retireAfter } from '../../src/keys/key-set.ts';
import { exchangeCode, loginThroughMock, rpConfig } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';
import { setClock, startCluster, type Cluster } from './cluster.ts';

let cluster: Cluster;
let t0: number;
const PUBLISH_DELAY = 120;

/** An agency service verifying ID token signatures with openid-client's own JWKS cache. */
async function relyingParty(): Promise<oidc.Configuration> {
  const config = await rpConfig(cluster.issuer);
  oidc.enableNonRepudiationChecks(config);
  return config;
}

/**
 * A whole login through the balancer, served by instance `at` (the mock provider's signing key lives in
 * the instance that started the login); the ID token after openid-client verified it, and its kid.
 */
async function idToken(rp: oidc.Configuration, at: number): Promise<{ token: string; kid: string }> {
  cluster.pin = at;
  try {
    const login = await loginThroughMock(rp);
    const tokens = await exchangeCode(rp, login, login.callback!);
    const token = tokens.id_token!;
    return { token, kid: decodeProtectedHeader(token).kid! };
  } finally {
    cluster.pin = undefined;
  }
}

/** The invariant: the kid that signed is published by every instance. */
async function expectPublishedEverywhere(kid: string): Promise<void> {
  for (const keys of await cluster.jwksOfEach()) expect(keys.map((k) => k.kid)).toContain(kid);
}

/** RP-initiated logout with `hint`: 200 is the engine's confirmation page, 400 a hint it could not verify. */
const endSession = (hint: string) =>
  fetch(
    `${cluster.issuer}/session/end?${new URLSearchParams({ id_token_hint: hint, post_logout_redirect_uri: 'https://rp.example.test/bye' })}`,
    { redirect: 'manual' },
  );

async function refresh(...which: number[]): Promise<void> {
  for (const i of which) await cluster.instances[i]!.gateway.keys.refresh();
}

const signingKid = (i: number) => cluster.instances[i]!.gateway.keys.ring.view.signing.PS256.kid;

describe.each(['dir', 'store'] as const)(
  'keys.source %s: a rotation seen by relying parties and both instances',
  (source) => {
    beforeAll(async () => {
      t0 = Date.now();
      setClock(t0);
      cluster = await startCluster({}, source);
      await cluster.start();
      await cluster.start();
    });

    afterAll(async () => {
      await cluster?.close();
      jest.useRealTimers();
    });

    let early: oidc.Configuration;
    let before: { token: string; kid: string };
    let oldKid: string;
    let newKid: string;

    test('before: both instances sign with the same published key; openid-client verifies it', async () => {
      // the key set is where keys.source says, and only there
      expect(existsSync(join(cluster.dir, 'keys'))).toBe(source === 'dir');
      early = await relyingParty();
      before = await idToken(early, 0);
      oldKid = before.kid;
      expect((await idToken(early, 1)).kid).toBe(oldKid);
      expect(signingKid(0)).toBe(oldKid);
      expect(signingKid(1)).toBe(oldKid);
      await expectPublishedEverywhere(oldKid);
    });

    test('keys rotate publishes the next key; it does not sign, even where it is already loaded', async () => {
      const rotated = await runCli(['keys', 'rotate', '--token', '--config', cluster.configFile, '--json']);
      expect(rotated.code).toBe(0);
      const added = (JSON.parse(rotated.stdout) as { added: { alg: string; id: string }[] }).added;
      newKid = added.find((k) => k.alg === 'PS256')!.id;
      // one instance reloaded, the other not yet
      await refresh(0);
      const [first, second] = await cluster.jwksOfEach();
      expect(first!.map((k) => k.kid)).toContain(newKid);
      expect(second!.map((k) => k.kid)).not.toContain(newKid);
      // nothing signs with it yet, on either instance
      for (const i of [0, 1]) {
        const { kid } = await idToken(early, i);
        expect(kid).toBe(oldKid);
        await expectPublishedEverywhere(kid);
      }
      await refresh(1);
      await expectPublishedEverywhere(newKid);
    });

    test('after the publication delay the new key signs; both kinds of relying party verify old and new tokens', async () => {
      // a relying party that fetched the JWKS during the publication window already knows the new key
      const prepared = await relyingParty();
      await idToken(prepared, 1);
      const fetchesBefore = cluster.jwksFetches;
      setClock(t0 + (PUBLISH_DELAY + 1) * 1000);
      // instance 0 has switched, instance 1 not yet: whichever signs, the kid is published by both
      await refresh(0);
      expect(signingKid(0)).toBe(newKid);
      expect(signingKid(1)).toBe(oldKid);
      const seen: string[] = [];
      for (const i of [0, 1]) {
        const { kid } = await idToken(prepared, i);
        await expectPublishedEverywhere(kid);
        seen.push(kid);
      }
      expect(seen).toEqual([newKid, oldKid]);
      // the prepared relying party verified the new key's token from its cache, without fetching the JWKS again
      expect(cluster.jwksFetches).toBe(fetchesBefore);
      await refresh(1);
      expect(signingKid(1)).toBe(newKid);
      // the relying party whose copy predates the rotation (older than 60 s now) refetches on the unknown kid
      const after = await idToken(early, 1);
      expect(after.kid).toBe(newKid);
      expect(cluster.jwksFetches).toBe(fetchesBefore + 1);
      // jose's remote JWKS, as relying parties without openid-client use it: both tokens verify
      const jwks = createRemoteJWKSet(new URL(`${cluster.issuer}/jwks`));
      for (const { token } of [before, after])
        await expect(jwtVerify(token, jwks, { issuer: cluster.issuer })).resolves.toBeTruthy();
    });

    test('an id_token_hint signed by the replaced key still verifies at the engine (logout), a forged one does not', async () => {
      expect((await endSession(before.token)).status).toBe(200);
      const forged = `${before.token.slice(0, -6)}${before.token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'}`;
      expect((await endSession(forged)).status).toBe(400);
    });

    test('the replaced key stays published until the longest lifetime has passed since the switch, then goes', async () => {
      // the default lifetimes: the longest is the session (3600 s), during which a service may send the hint
      const lifetime = retireAfter({
        ttl: { id_token: 600, access_token: 600, session: 3600, interaction: 900, login: 600, authorization_code: 60 },
        keys: { reload_interval: 30 },
      });
      const switched = Math.floor(t0 / 1000) + PUBLISH_DELAY;
      setClock((switched + lifetime - 1) * 1000);
      await refresh(0, 1);
      await expectPublishedEverywhere(oldKid);
      setClock((switched + lifetime) * 1000);
      await refresh(0, 1);
      for (const keys of await cluster.jwksOfEach()) expect(keys.map((k) => k.kid)).not.toContain(oldKid);
      await expectPublishedEverywhere(newKid);
      // an old token no longer verifies against the JWKS now served
      const jwks = createRemoteJWKSet(new URL(`${cluster.issuer}/jwks`));
      await expect(
        jwtVerify(before.token, jwks, { issuer: cluster.issuer, currentDate: new Date(t0) }),
      ).rejects.toThrow();
      // nor does the engine take it as an id_token_hint any more
      expect((await endSession(before.token)).status).toBe(400);
    });
  },
);

// A token request refused after the engine consumed its code (a replayed DPoP proof: the engine looks the
// proof's jti up only once the code is consumed) released no tokens, so the code is not spent: the request
// withdraws its own lease on it (src/oidc/code-redemption.ts) and the client, trying again at once with a
// fresh proof, gets its tokens instead of 503s until the lease runs out. Only its own lease: one that ran out
// and was taken by another request since is left alone. A lease another redemption contested meanwhile still
// revokes the grant, as a reuse does. On the memory store and on Redis.
import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { exportJWK, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/store.ts';
import { type GatewaySetUp, loginThroughMock, RP_REDIRECT, RP_SECRET, useGateway } from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

type Login = Awaited<ReturnType<typeof loginThroughMock>>;

/** A store whose operations on a key the test picks wait until it lets them go (a slow node). */
class StallingStore {
  private stall?: { at: (op: string, key: string) => boolean; arrive: () => void; wait: Promise<void> };
  readonly store: Store;

  constructor(inner: Store) {
    this.store = new Proxy(inner, {
      get: (target, name) => {
        const member = Reflect.get(target, name, target) as unknown;
        if (typeof member !== 'function') return member;
        return async (key: string, ...rest: unknown[]) => {
          const stall = this.stall;
          if (typeof key === 'string' && stall?.at(String(name), key)) {
            this.stall = undefined;
            stall.arrive();
            await stall.wait;
          }
          return (member as (...args: unknown[]) => unknown).call(target, key, ...rest);
        };
      },
    });
  }

  /** The next operation `at` picks waits: `reached` once it is there, carried out at `release()`. */
  stallNext(at: (op: string, key: string) => boolean): { reached: Promise<void>; release: () => void } {
    let release!: () => void;
    let arrive!: () => void;
    const wait = new Promise<void>((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    this.stall = { at, arrive, wait };
    return { reached, release };
  }
}

const stores: [string, (setUp: GatewaySetUp) => Store][] = [
  ['memory store', () => new MemoryStore()],
  ['Redis', ({ cleanup }) => testRedisStore(testPrefix(), cleanup)],
];

describe.each(stores)('%s', (_name, storeOf) => {
  let stalling: StallingStore;
  const gw = useGateway((setUp) => {
    stalling = new StallingStore(storeOf(setUp));
    return { store: stalling.store };
  });

  /** A DPoP proof (RFC 9449 4.2) by `keys` for `htm` at `htu`, with the hash of the access token it goes with. */
  async function proof(keys: oidc.CryptoKeyPair, htm = 'POST', htu = `${gw.issuer}/token`, accessToken?: string) {
    const ath = accessToken && createHash('sha256').update(accessToken).digest('base64url');
    return new SignJWT({ jti: randomUUID(), htm, htu, ...(ath ? { ath } : {}) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(keys.publicKey) })
      .setIssuedAt()
      .sign(keys.privateKey);
  }

  async function redeem(login: Login, dpop: string, verifier = login.verifier) {
    const res = await fetch(`${gw.issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        dpop,
      },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: login.callback!.searchParams.get('code')!,
        redirect_uri: RP_REDIRECT,
        code_verifier: verifier,
      }),
    });
    const body = (await res.json()) as { error?: string; token_type?: string; access_token?: string };
    return { status: res.status, answer: body.error ?? body.token_type, accessToken: body.access_token };
  }

  /** A client's DPoP keys, a proof of them already used once at the token endpoint, and a fresh login's code. */
  async function replayedProofAndCode() {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const used = await proof(keys);
    expect(await redeem(await loginThroughMock(gw.rp), used)).toMatchObject({ status: 200, answer: 'DPoP' });
    return { keys, used, login: await loginThroughMock(gw.rp) };
  }

  const markerOf = (login: Login) => `oidc:consumed:AuthorizationCode:${login.callback!.searchParams.get('code')}`;
  const jwtIdRecords = (_op: string, key: string) => key.startsWith('oidc:ReplayDetection:');

  test('a code refused for a replayed DPoP proof is redeemed at once with a fresh proof, and is spent then', async () => {
    const { keys, used, login } = await replayedProofAndCode();
    expect(await redeem(login, used)).toMatchObject({ status: 400, answer: 'invalid_dpop_proof' });
    const tokens = await redeem(login, await proof(keys));
    expect(tokens).toMatchObject({ status: 200, answer: 'DPoP' });
    // single use holds: a third redemption is a reuse, refused, and takes the tokens with it
    expect(await redeem(login, await proof(keys))).toMatchObject({ status: 400, answer: 'invalid_grant' });
    const res = await fetch(`${gw.issuer}/me`, {
      headers: {
        authorization: `DPoP ${tokens.accessToken}`,
        dpop: await proof(keys, 'GET', `${gw.issuer}/me`, tokens.accessToken),
      },
    });
    expect(res.status).toBe(401);
  });

  test('a wrong PKCE verifier is refused before the code is consumed: no lease, the right one redeems it', async () => {
    const keys = await oidc.randomDPoPKeyPair('ES256');
    const login = await loginThroughMock(gw.rp);
    const wrong = oidc.randomPKCECodeVerifier();
    expect(await redeem(login, await proof(keys), wrong)).toMatchObject({ status: 400, answer: 'invalid_grant' });
    expect(await stalling.store.get(markerOf(login))).toBeUndefined();
    expect(await redeem(login, await proof(keys))).toMatchObject({ status: 200, answer: 'DPoP' });
  });

  test('a second redemption contests the lease of one then refused for its proof: neither gets tokens, the grant is revoked', async () => {
    const { keys, used, login } = await replayedProofAndCode();
    // the first request holds its lease on the code when it looks its proof's jti up
    const stall = stalling.stallNext(jwtIdRecords);
    const first = redeem(login, used);
    await stall.reached;
    expect(await redeem(login, await proof(keys))).toMatchObject({ status: 503, answer: 'temporarily_unavailable' });
    stall.release();
    expect(await first).toMatchObject({ status: 400, answer: 'invalid_dpop_proof' });
    expect(await redeem(login, await proof(keys))).toMatchObject({ status: 400, answer: 'invalid_grant' });
  });

  test('a refused request whose lease ran out meanwhile leaves alone the lease another request took since', async () => {
    const { keys, used, login } = await replayedProofAndCode();
    const marker = markerOf(login);
    const stall = stalling.stallNext(jwtIdRecords);
    const first = redeem(login, used);
    await stall.reached;
    await stalling.store.delete(marker); // the first request's lease runs out
    // the second request takes the code and waits before its access token
    const next = stalling.stallNext((op, key) => op === 'set' && key.startsWith('oidc:AccessToken:'));
    const second = redeem(login, await proof(keys));
    await next.reached;
    const lease = await stalling.store.get(marker);
    expect(lease).toMatch(/^pending:/);
    stall.release();
    expect(await first).toMatchObject({ status: 400, answer: 'invalid_dpop_proof' });
    expect(await stalling.store.get(marker)).toBe(lease);
    next.release();
    expect(await second).toMatchObject({ status: 200, answer: 'DPoP' });
  });
});

// How a key set that changes while the gateway runs reaches node-oidc-provider, which builds its keystore
// and its JWKS response once, in its constructor, and offers no way to change them afterwards.
// - Signing and verifying: the engine's supported `ExternalSigningKey` (features.externalSigningSupport,
//   meant for keys held by a KMS or HSM) lets a key's kid, public half and signature come from us at each
//   use. Each algorithm gets SLOTS such keys: slot 0 is always the key that signs now, the others the
//   retired keys (so an `id_token_hint` signed before a rotation still verifies). The engine picks the first
//   key of an algorithm to sign, i.e. slot 0, and writes its kid in the JWS header; `sign()` then signs
//   with the key that header names and refuses any key that is not current, so a header and its
//   signature always match and nothing unpublished ever signs, whenever a reload lands.
// - The JWKS: served from the key ring in front of the engine (its own copy is frozen at construction).
// - Cookie keys: the engine reads `provider.keys` (Koa) for every request, so a reload replaces it; a
//   CookieSigner (./cookie-signer.ts) in place of the array Koa would wrap in a Keygrip on each request.
import { constants, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import express from 'express';
import type Provider from 'oidc-provider';
import { ExternalSigningKey } from 'oidc-provider';
import { CookieSigner } from './cookie-signer.ts';
import type { KeyRing } from './key-ring.ts';
import type { Logger } from '../logger.ts';
import { publicJwk, TOKEN_ALGS, type TokenAlg, type TokenKey } from './material.ts';

/**
 * Keys per algorithm the engine verifies with: the current one and up to SLOTS - 1 retired ones, the
 * newest first (with the default lifetimes and publication delay at most six rotations fit in one
 * retirement; all retired keys stay in the JWKS whatever their number).
 */
export const SLOTS = 8;

/** node-oidc-provider's experimental feature version this integration was written against (a new one refuses start). */
export const EXTERNAL_SIGNING = { enabled: true, ack: 'experimental-01' } as const;

const keyObjects = new WeakMap<TokenKey, { private: KeyObject; public: KeyObject }>();

function keyObjectsOf(key: TokenKey) {
  let pair = keyObjects.get(key);
  if (!pair) {
    pair = {
      private: createPrivateKey({ key: key.jwk as never, format: 'jwk' }),
      public: createPublicKey({ key: publicJwk(key) as never, format: 'jwk' }),
    };
    keyObjects.set(key, pair);
  }
  return pair;
}

/** The signature of a JWS signing input, as RFC 7518 3.3-3.5 define PS256, RS256 and ES256. */
function signature(alg: TokenAlg, data: Uint8Array, key: KeyObject): Buffer {
  if (alg === 'PS256') return sign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  if (alg === 'ES256') return sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  return sign('sha256', data, key);
}

export class KeyNotCurrent extends Error {
  override name = 'KeyNotCurrent';
}

class KeySlot extends ExternalSigningKey {
  private readonly ring: KeyRing;
  private readonly slotAlg: TokenAlg;
  private readonly index: number;

  constructor(ring: KeyRing, slotAlg: TokenAlg, index: number) {
    super();
    this.ring = ring;
    this.slotAlg = slotAlg;
    this.index = index;
  }

  private mapped(): TokenKey | undefined {
    return this.ring.view.verifying[this.slotAlg][this.index];
  }

  /** An empty slot shows the current key's public half under a kid that never appears in a token. */
  private shown() {
    return publicJwk(this.mapped() ?? this.ring.view.signing[this.slotAlg]);
  }

  override get kid(): string {
    return this.mapped()?.kid ?? `unused-${this.slotAlg}-${this.index}`;
  }
  override get alg(): string {
    return this.slotAlg;
  }
  override get kty(): string {
    return this.slotAlg === 'ES256' ? 'EC' : 'RSA';
  }
  override get crv() {
    return this.shown().crv;
  }
  override get n() {
    return this.shown().n;
  }
  override get e() {
    return this.shown().e;
  }
  override get x() {
    return this.shown().x;
  }
  override get y() {
    return this.shown().y;
  }
  override get pub() {
    return undefined;
  }

  override keyObject(): KeyObject {
    const key = this.mapped();
    if (!key) throw new KeyNotCurrent(`no ${this.slotAlg} key in slot ${this.index}`);
    return keyObjectsOf(key).public;
  }

  override sign(data: Uint8Array): Uint8Array {
    const [encodedHeader = ''] = Buffer.from(data).toString('ascii').split('.', 1);
    const header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as {
      kid?: unknown;
      alg?: unknown;
    };
    const key = this.ring.view.signing[this.slotAlg];
    if (header.alg !== this.slotAlg || header.kid !== key.kid)
      throw new KeyNotCurrent(
        `refusing to sign with ${String(header.kid)}: the current ${this.slotAlg} key is ${key.kid}`,
      );
    return signature(this.slotAlg, data, keyObjectsOf(key).private);
  }
}

/** The engine's `jwks` configuration: SLOTS keys per algorithm, slot 0 of each first. */
export function engineKeys(ring: KeyRing): { keys: ExternalSigningKey[] } {
  const keys: ExternalSigningKey[] = [];
  for (let i = 0; i < SLOTS; i++) for (const alg of TOKEN_ALGS) keys.push(new KeySlot(ring, alg, i));
  return { keys };
}

/**
 * GET /jwks from the key ring: next, current and retired keys, as the engine would answer it (open to
 * any origin, like the engine's own; the engine still answers the CORS preflight).
 */
export function jwksRoutes(ring: KeyRing): express.Router {
  const router = express.Router();
  router.get('/jwks', (_req, res) => {
    res.set('Access-Control-Allow-Origin', '*');
    res.type('application/jwk-set+json; charset=utf-8').send(JSON.stringify({ keys: ring.view.published }));
  });
  return router;
}

/** Cookie keys follow the key ring: the first signs, every one verifies (read per request by Koa). */
export function followCookieKeys(provider: Provider, ring: KeyRing, logger: Logger): void {
  // Koa's own type says string[]; its Cookies takes any object with Keygrip's sign, verify and index
  const follow = (cookies: string[]) => {
    // a reload without a cookie key keeps the signer in use: cookies stay verifiable, nothing is unsigned
    if (cookies.length) provider.keys = new CookieSigner(cookies) as unknown as string[];
    else logger.error('key set reload without a cookie key: the cookie keys in use are kept');
  };
  follow(ring.view.cookies);
  ring.onChange((view) => follow(view.cookies));
}

// Creating and rotating a key set. A new deployment's first keys sign at once (nothing was signed before
// them); every later key is published `publishDelay` seconds before it signs. Rotation also drops the
// keys whose retirement is over, with their material. Where the set is kept: ./key-source.ts.
import type { GatewayConfig } from '../config/load.ts';
import { placeAll, type Manifest, type Phase } from './lifecycle.ts';
import { generateCookieKey, generateTokenKey, TOKEN_ALGS } from './material.ts';
import type { LoadedKeySet } from './key-dir.ts';
import { dirSource, type KeySource, type KeyWrite } from './key-source.ts';

/** Clock skew allowed between the gateway and relying parties checking `exp` (seconds). */
export const CLOCK_SKEW = 60;

export const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * How long a superseded key stays published: the longest life of what it signed or verifies. ID tokens
 * live `ttl.id_token`, but a service sends its last ID token back as `id_token_hint` at logout for as long
 * as the session lasts; cookies live as long as the session or the interaction. An instance may go on
 * signing with the superseded key until its next reload, hence one reload interval more.
 */
export function retireAfter(config: { ttl: GatewayConfig['ttl']; keys: { reload_interval: number } }): number {
  const { id_token, access_token, session, interaction } = config.ttl;
  return Math.max(id_token, access_token, session, interaction) + CLOCK_SKEW + config.keys.reload_interval;
}

export type KeyChange = KeyWrite;

export async function newKeySet(now: number): Promise<KeyChange> {
  const token = await Promise.all(TOKEN_ALGS.map((alg) => generateTokenKey(alg)));
  const cookie = [generateCookieKey()];
  return {
    manifest: {
      version: 1,
      token: token.map((k) => ({ id: k.kid, alg: k.alg, created: now, activates: now })),
      cookie: cookie.map((k) => ({ id: k.id, created: now, activates: now })),
    },
    added: { token, cookie },
    removed: { token: [], cookie: [] },
  };
}

export class RotationRefused extends Error {
  override name = 'RotationRefused';
}

export interface RotateOptions {
  token: boolean;
  cookie: boolean;
  now: number;
  publishDelay: number;
  retireAfter: number;
}

/** Adds a `next` key of each kind asked for; refused while a kind still has one waiting to sign. */
export async function rotateKeySet(manifest: Manifest, o: RotateOptions): Promise<KeyChange> {
  const placed = placeAll(manifest, o.now, o.retireAfter);
  const waiting = [
    ...(o.token ? placed.token : []).filter((p) => p.phase === 'next').map((p) => `token key ${p.entry.id}`),
    ...(o.cookie ? placed.cookie : []).filter((p) => p.phase === 'next').map((p) => `cookie key ${p.entry.id}`),
  ];
  if (waiting.length)
    throw new RotationRefused(
      `a rotation is under way: ${waiting.join(', ')} signs from ${new Date(
        Math.max(...[...placed.token, ...placed.cookie].map((p) => p.entry.activates)) * 1000,
      ).toISOString()}; rotate again after that`,
    );
  const expired = {
    token: placed.token.filter((p) => p.phase === 'expired').map((p) => p.entry.id),
    cookie: placed.cookie.filter((p) => p.phase === 'expired').map((p) => p.entry.id),
  };
  const token = o.token ? await Promise.all(TOKEN_ALGS.map((alg) => generateTokenKey(alg))) : [];
  const cookie = o.cookie ? [generateCookieKey()] : [];
  const activates = o.now + o.publishDelay;
  return {
    manifest: {
      version: 1,
      token: [
        ...manifest.token.filter((e) => !expired.token.includes(e.id)),
        ...token.map((k) => ({ id: k.kid, alg: k.alg, created: o.now, activates })),
      ],
      cookie: [
        ...manifest.cookie.filter((e) => !expired.cookie.includes(e.id)),
        ...cookie.map((k) => ({ id: k.id, created: o.now, activates })),
      ],
    },
    added: { token, cookie },
    removed: expired,
  };
}

export interface Revoked {
  kind: 'token' | 'cookie';
  alg: string | null;
  /** its phase when revoked: a `current` key is replaced by one that signs at once */
  phase: Phase;
}

/**
 * `keys revoke`: a key that leaked leaves the set at once, material and all: no longer published, accepted
 * or signing anywhere once instances reload. When it was the one signing its kind, a new key of that kind
 * signs from now, without the publish delay (the leaked key must not sign on; a relying party whose JWKS
 * copy lacks the new kid fetches it again). Revoking a retired or next key takes nothing else with it.
 */
export async function revokeKeySet(
  manifest: Manifest,
  o: { id: string; now: number; retireAfter: number },
): Promise<KeyChange & { revoked: Revoked }> {
  const placed = placeAll(manifest, o.now, o.retireAfter);
  const token = placed.token.find((p) => p.entry.id === o.id);
  const cookie = placed.cookie.find((p) => p.entry.id === o.id);
  const found = token ?? cookie;
  if (!found) throw new RotationRefused(`the key set holds no key ${o.id} ("vpm-gateway keys status" lists them)`);
  const signing = found.phase === 'current';
  const added = {
    token: token && signing ? [await generateTokenKey(token.entry.alg)] : [],
    cookie: cookie && signing ? [generateCookieKey()] : [],
  };
  const fresh = { created: o.now, activates: o.now };
  return {
    manifest: {
      version: 1,
      token: [
        ...manifest.token.filter((e) => e.id !== o.id),
        ...added.token.map((k) => ({ id: k.kid, alg: k.alg, ...fresh })),
      ],
      cookie: [...manifest.cookie.filter((e) => e.id !== o.id), ...added.cookie.map((k) => ({ id: k.id, ...fresh }))],
    },
    added,
    removed: { token: token ? [o.id] : [], cookie: cookie ? [o.id] : [] },
    revoked: { kind: token ? 'token' : 'cookie', alg: token?.entry.alg ?? null, phase: found.phase },
  };
}

/** `keys revoke`: under the source's lock, read, revoke, write (the revoked key's material goes with it). */
export async function revokeKey(
  source: KeySource,
  o: { id: string; now: number; retireAfter: number },
): Promise<KeyChange & { revoked: Revoked }> {
  return source.update(async (before) => {
    if (!before) throw new RotationRefused(`${source.where}: no key set`);
    const change = await revokeKeySet(before.manifest, o);
    return { write: change, result: change };
  });
}

/** Creates the key set unless one exists; the set afterwards and whether this call made it. */
export async function initKeys(source: KeySource, now: number): Promise<{ set: LoadedKeySet; created: boolean }> {
  const existing = await source.read();
  if (existing) return { set: existing, created: false };
  const created = await source.create(await newKeySet(now));
  const set = await source.read();
  if (!set) throw new Error(`${source.where}: key set vanished after it was written`);
  return { set, created };
}

export const initKeyDir = (dir: string, now: number) => initKeys(dirSource(dir), now);

/** `keys rotate`: under the source's lock, read, rotate, write (the expired keys' material goes with them). */
export async function rotateKeys(source: KeySource, o: RotateOptions): Promise<{ change: KeyChange }> {
  return source.update(async (before) => {
    if (!before) throw new RotationRefused(`${source.where}: no key set to rotate; run "vpm-gateway keys init" first`);
    const change = await rotateKeySet(before.manifest, o);
    return { write: change, result: { change } };
  });
}

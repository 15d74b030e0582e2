// Where a deployment keeps its one key set: `keys.dir` (a directory every instance reads: a shared volume
// or the same files deployed everywhere) or the store every instance already shares (`keys.source:
// store`, Redis). Either way the key set is read whole, checked key by key (kid = thumbprint, cookie id =
// digest of the secret), and changed by one `keys` command at a time.
import type { JWK } from 'jose';
import type { Store } from '../store/store.ts';
import { manifestSchema, type Manifest } from './lifecycle.ts';
import { checkCookieKey, checkTokenKey, KeyMaterialError, type CookieKey, type TokenKey } from './material.ts';
import { readKeyDir, removeKeyFiles, withKeyDirLock, writeKeyDir, type LoadedKeySet } from './key-dir.ts';

export interface KeyWrite {
  manifest: Manifest;
  added: { token: TokenKey[]; cookie: CookieKey[] };
  removed: { token: string[]; cookie: string[] };
}

export interface KeySource {
  /** for messages: the directory, or the store key */
  where: string;
  read(): Promise<LoadedKeySet | undefined>;
  /** stores a first key set; false when one exists already (then that one stays) */
  create(write: KeyWrite): Promise<boolean>;
  /** runs `fn` holding the source's lock, writing what it returns */
  update<T>(fn: (set: LoadedKeySet | undefined) => Promise<{ write: KeyWrite; result: T }>): Promise<T>;
}

export function dirSource(dir: string): KeySource {
  return {
    where: dir,
    read: () => readKeyDir(dir),
    async create(write) {
      return writeKeyDir(dir, write.manifest, write.added, { create: true });
    },
    update(fn) {
      return withKeyDirLock(dir, async () => {
        const { write, result } = await fn(await readKeyDir(dir));
        writeKeyDir(dir, write.manifest, write.added, { create: false });
        removeKeyFiles(dir, write.removed);
        return result;
      });
    },
  };
}

const SET_KEY = 'keys:set';
const LOCK_KEY = 'keys:lock';
/** The store keeps nothing without a TTL: ten years, renewed by every rotation. */
const SET_TTL = 10 * 365 * 86_400;
/** A `keys` command holds the lock at most this long (an interrupted one frees it by itself). */
const LOCK_TTL = 120;

interface StoredSet {
  manifest: Manifest;
  token: Record<string, JWK>;
  cookie: Record<string, string>;
}

function encode(write: KeyWrite, previous: LoadedKeySet | undefined): string {
  const token = new Map(previous?.token);
  const cookie = new Map(previous?.cookie);
  for (const key of write.added.token) token.set(key.kid, key);
  for (const key of write.added.cookie) cookie.set(key.id, key);
  const doc: StoredSet = {
    manifest: write.manifest,
    token: Object.fromEntries(write.manifest.token.map((e) => [e.id, token.get(e.id)!.jwk])),
    cookie: Object.fromEntries(write.manifest.cookie.map((e) => [e.id, cookie.get(e.id)!.secret])),
  };
  return JSON.stringify(doc);
}

export function storeSource(store: Store): KeySource {
  const where = `the store key ${SET_KEY}`;
  const read = async (): Promise<LoadedKeySet | undefined> => {
    const text = await store.get(SET_KEY);
    if (text === undefined) return undefined;
    let doc: StoredSet;
    let manifest: Manifest;
    try {
      doc = JSON.parse(text) as StoredSet;
      manifest = manifestSchema.parse(doc.manifest);
    } catch {
      throw new KeyMaterialError(`${where}: not a key set`);
    }
    const token = new Map<string, TokenKey>();
    for (const e of manifest.token) {
      const jwk = doc.token?.[e.id];
      if (!jwk) throw new KeyMaterialError(`${where}: token key ${e.id} is missing`);
      token.set(e.id, await checkTokenKey(jwk, { kid: e.id, alg: e.alg }, `${where}, token key ${e.id}`));
    }
    const cookie = new Map<string, CookieKey>();
    for (const e of manifest.cookie) {
      const secret = doc.cookie?.[e.id];
      if (typeof secret !== 'string') throw new KeyMaterialError(`${where}: cookie key ${e.id} is missing`);
      cookie.set(e.id, checkCookieKey(secret, e.id, `${where}, cookie key ${e.id}`));
    }
    return { manifest, token, cookie };
  };
  return {
    where,
    read,
    create: (write) => store.setIfAbsent(SET_KEY, encode(write, undefined), SET_TTL),
    async update(fn) {
      if (!(await store.setIfAbsent(LOCK_KEY, String(process.pid), LOCK_TTL)))
        throw new KeyMaterialError(`${where}: another keys command is changing this key set`);
      try {
        const previous = await read();
        const { write, result } = await fn(previous);
        await store.set(SET_KEY, encode(write, previous), SET_TTL);
        return result;
      } finally {
        await store.delete(LOCK_KEY);
      }
    },
  };
}

/** The configured source; `store` is the gateway's (or the command's) store. */
export function keySource(config: { keys: { source: 'dir' | 'store'; dir: string } }, store: Store): KeySource {
  return config.keys.source === 'store' ? storeSource(store) : dirSource(config.keys.dir);
}

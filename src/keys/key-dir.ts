// The key set on disk, in `keys.dir`: `keys.json` (which keys exist and their times, no secret) and one
// 0600 file per key, `token-<kid>.jwk.json` or `cookie-<id>.secret`. Key files are written before the
// manifest that names them, and the manifest is replaced by rename, so a reader never sees a key set
// whose files are missing. Other `*.jwk.json` files in the directory (adapters' generated keys) are not
// token keys: only what the manifest names is.
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { manifestSchema, type Manifest } from './lifecycle.ts';
import { checkCookieKey, checkTokenKey, KeyMaterialError, type CookieKey, type TokenKey } from './material.ts';

export const MANIFEST_FILE = 'keys.json';
const LOCK_FILE = 'keys.lock';

export interface LoadedKeySet {
  manifest: Manifest;
  token: Map<string, TokenKey>;
  cookie: Map<string, CookieKey>;
}

export const tokenFile = (kid: string) => `token-${kid}.jwk.json`;
export const cookieFile = (id: string) => `cookie-${id}.secret`;

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new KeyMaterialError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The key set in `dir`, or undefined when there is none (no manifest). */
export async function readKeyDir(dir: string): Promise<LoadedKeySet | undefined> {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(read(path)));
  } catch (err) {
    if (err instanceof KeyMaterialError) throw err;
    throw new KeyMaterialError(`${path}: not a key set manifest`);
  }
  const token = new Map<string, TokenKey>();
  for (const entry of manifest.token) {
    const file = join(dir, tokenFile(entry.id));
    let jwk: JWK;
    try {
      jwk = JSON.parse(read(file)) as JWK;
    } catch (err) {
      if (err instanceof KeyMaterialError) throw err;
      throw new KeyMaterialError(`${file}: unreadable JWK file`);
    }
    token.set(entry.id, await checkTokenKey(jwk, { kid: entry.id, alg: entry.alg }, file));
  }
  const cookie = new Map<string, CookieKey>();
  for (const entry of manifest.cookie) {
    const file = join(dir, cookieFile(entry.id));
    cookie.set(entry.id, checkCookieKey(read(file).trim(), entry.id, file));
  }
  return { manifest, token, cookie };
}

function writeSecretFile(path: string, text: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // the same key written by an earlier, interrupted run: its name is its content's digest
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Writes the files of `keys` not yet in `dir`, then the manifest. `create`: only when there is no key set yet. */
export function writeKeyDir(
  dir: string,
  manifest: Manifest,
  keys: { token: TokenKey[]; cookie: CookieKey[] },
  opts: { create: boolean },
): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const key of keys.token) writeSecretFile(join(dir, tokenFile(key.kid)), JSON.stringify(key.jwk));
  for (const key of keys.cookie) writeSecretFile(join(dir, cookieFile(key.id)), key.secret);
  const target = join(dir, MANIFEST_FILE);
  const temp = join(dir, `${MANIFEST_FILE}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  try {
    if (!opts.create) {
      renameSync(temp, target);
      return true;
    }
    // link fails when another process created the key set first: both then use that one
    linkSync(temp, target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(temp, { force: true });
  }
}

/** Removes the files of keys no longer in the manifest. */
export function removeKeyFiles(dir: string, removed: { token: string[]; cookie: string[] }): void {
  for (const kid of removed.token) rmSync(join(dir, tokenFile(kid)), { force: true });
  for (const id of removed.cookie) rmSync(join(dir, cookieFile(id)), { force: true });
}

/** One `keys` command at a time changes a key set: a second one is refused rather than losing a key. */
export async function withKeyDirLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new KeyMaterialError(
        `${path}: another keys command is changing this key set (remove the file if none runs)`,
      );
    throw err;
  }
  closeSync(fd);
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

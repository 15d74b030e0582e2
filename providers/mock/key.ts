// The mock eID's signing key, shared by every instance that shares the key directory: the first instance
// creates `mock-<id>.key.pem` (PKCS#8, 0600), the others read it. The file appears whole or not at all
// (written aside, then hard-linked into place), so an instance starting alongside never reads half a key.
import { generateKeyPairSync, createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface MockKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

async function readKey(path: string): Promise<MockKey | undefined> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error(`${path}: not a P-256 key (the mock eID signs ES256)`);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The key of mock provider `id` in `keyDir`, created when no instance has created it yet. */
export async function loadOrCreateMockKey(keyDir: string, id: string): Promise<MockKey> {
  const path = join(keyDir, `mock-${id}.key.pem`);
  const existing = await readKey(path);
  if (existing) return existing;
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const aside = `${path}.${process.pid}.${randomBytes(6).toString('hex')}`;
  await writeFile(aside, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  try {
    await link(aside, path);
  } catch (err) {
    // another instance created it first: use theirs
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(aside);
  }
  return (await readKey(path))!;
}

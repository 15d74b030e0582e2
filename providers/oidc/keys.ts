// The gateway's own keys towards one upstream: a signing key (private_key_jwt client assertions, signed
// request objects) and a decryption key (JWE ID tokens and userinfo). Taken from PKCS#8 files named in
// the configuration, or generated once into the key directory and reused on every later start.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
  type JWK,
} from 'jose';

export interface GatewayKey {
  key: CryptoKey;
  kid: string;
  alg: string;
  /** public half, published to the upstream (jwks.json route or registration) */
  publicJwk: JWK;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'] as const;

function publicOf(jwk: JWK): JWK {
  const pub: JWK = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete pub[member];
  return pub;
}

function generationParams(alg: string): { genAlg: string; options: { modulusLength?: number; extractable: true } } {
  if (alg.startsWith('ECDH-ES')) return { genAlg: 'ECDH-ES', options: { extractable: true } }; // P-256
  if (alg.startsWith('ES')) return { genAlg: alg, options: { extractable: true } };
  return { genAlg: alg, options: { modulusLength: 3072, extractable: true } };
}

async function fromJwk(jwk: JWK, alg: string, use: 'sig' | 'enc', where: string): Promise<GatewayKey> {
  if (!jwk.d) throw new Error(`${where}: not a private key`);
  if (jwk.kty === 'RSA' && Buffer.from(jwk.n ?? '', 'base64url').length * 8 < 2048)
    throw new Error(`${where}: RSA key below 2048 bits`);
  let key: CryptoKey;
  try {
    key = (await importJWK({ ...jwk, alg: undefined, use: undefined, key_ops: undefined }, alg)) as CryptoKey;
  } catch (err) {
    throw new Error(`${where}: key cannot be used with ${alg}: ${(err as Error).message}`);
  }
  const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
  return { key, kid, alg, publicJwk: { ...publicOf(jwk), kid, use, alg } };
}

/** Load a PKCS#8 PEM file, or the generated key `<keyDir>/<name>.jwk.json` (creating it on first start). */
export async function loadOrCreateKey(opts: {
  file?: string | undefined;
  keyDir: string;
  name: string;
  alg: string;
  use: 'sig' | 'enc';
}): Promise<GatewayKey> {
  if (opts.file) {
    let key: CryptoKey;
    try {
      key = await importPKCS8(readFileSync(opts.file, 'utf8'), opts.alg, { extractable: true });
    } catch (err) {
      throw new Error(`${opts.file}: not a PKCS#8 private key usable with ${opts.alg}: ${(err as Error).message}`);
    }
    return fromJwk(await exportJWK(key), opts.alg, opts.use, opts.file);
  }
  mkdirSync(opts.keyDir, { recursive: true, mode: 0o700 });
  const path = join(opts.keyDir, `${opts.name}.jwk.json`);
  if (!existsSync(path)) {
    const { genAlg, options } = generationParams(opts.alg);
    const { privateKey } = await generateKeyPair(genAlg, options);
    const jwk = await exportJWK(privateKey);
    jwk.kid = await calculateJwkThumbprint(jwk);
    try {
      writeFileSync(path, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // another process created it first: use theirs
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(readFileSync(path, 'utf8')) as JWK;
  } catch (err) {
    throw new Error(`${path}: unreadable key file: ${(err as Error).message}`);
  }
  return fromJwk(jwk, opts.alg, opts.use, path);
}

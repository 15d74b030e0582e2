// Token signing keys live in a key directory (never committed). On first start the gateway generates one
// key per algorithm it offers (PS256/RS256 share an RSA key, ES256 an EC key) so clients can choose.
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';

export interface SigningKeys {
  keys: JWK[];
}

async function generate(kind: 'RSA' | 'EC'): Promise<JWK> {
  const { privateKey } =
    kind === 'RSA'
      ? await generateKeyPair('PS256', { modulusLength: 3072, extractable: true })
      : await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.use = 'sig';
  return jwk;
}

/** Load every *.jwk.json private key in dir; create an RSA and an EC key when there is none. */
export async function loadOrCreateSigningKeys(dir: string): Promise<SigningKeys> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const wanted: Record<'RSA' | 'EC', string> = { RSA: 'signing-rsa.jwk.json', EC: 'signing-ec.jwk.json' };
  for (const [kind, file] of Object.entries(wanted) as ['RSA' | 'EC', string][]) {
    const path = join(dir, file);
    if (!existsSync(path)) writeFileSync(path, JSON.stringify(await generate(kind)), { mode: 0o600, flag: 'wx' });
  }
  const keys = readdirSync(dir)
    .filter((f) => f.endsWith('.jwk.json'))
    .sort()
    .map((f) => {
      const jwk = JSON.parse(readFileSync(join(dir, f), 'utf8')) as JWK;
      if (!jwk.d) throw new Error(`${join(dir, f)}: not a private key`);
      if (jwk.kty === 'RSA' && Buffer.from(jwk.n ?? '', 'base64url').length * 8 < 2048)
        throw new Error(`${join(dir, f)}: RSA key below 2048 bits`);
      return jwk;
    });
  return { keys };
}

// The key material the gateway signs with: one private JWK per ID token algorithm it offers (a key is
// bound to its `alg`, RFC 7517 4.4, so PS256 and RS256 never share an RSA key) and random secrets for
// signed cookies. A token key's kid is its RFC 7638 thumbprint and a cookie key's id a digest of the
// secret, so a key set's digest names the material itself, never only file names.
import { createHash, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';

/** The ID token algorithms agency services may choose (`id_token_signed_response_alg`). */
export const TOKEN_ALGS = ['PS256', 'ES256', 'RS256'] as const;
export type TokenAlg = (typeof TOKEN_ALGS)[number];

/** A private signing key as it is stored and loaded. */
export interface TokenKey {
  kid: string;
  alg: TokenAlg;
  /** the private JWK (kid, alg and use included) */
  jwk: JWK;
}

export interface CookieKey {
  id: string;
  secret: string;
}

export class KeyMaterialError extends Error {
  override name = 'KeyMaterialError';
}

export async function generateTokenKey(alg: TokenAlg): Promise<TokenKey> {
  const { privateKey } =
    alg === 'ES256'
      ? await generateKeyPair('ES256', { extractable: true })
      : await generateKeyPair(alg, { modulusLength: 3072, extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export function cookieKeyId(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url').slice(0, 16);
}

/** 256 random bits: Keygrip HMAC-SHA1/-SHA256 keys need no more. */
export function generateCookieKey(): CookieKey {
  const secret = randomBytes(32).toString('base64url');
  return { id: cookieKeyId(secret), secret };
}

/** The public half published in JWKS. */
export function publicJwk(key: TokenKey): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = key.jwk;
  return pub;
}

/** A stored private key, checked against what the manifest says it is (`where` names the file). */
export async function checkTokenKey(
  jwk: JWK,
  expected: { kid: string; alg: TokenAlg },
  where: string,
): Promise<TokenKey> {
  if (!jwk.d) throw new KeyMaterialError(`${where}: not a private key`);
  const kty = expected.alg === 'ES256' ? 'EC' : 'RSA';
  if (jwk.kty !== kty || (kty === 'EC' && jwk.crv !== 'P-256'))
    throw new KeyMaterialError(`${where}: not a ${expected.alg} key`);
  if (kty === 'RSA' && Buffer.from(jwk.n ?? '', 'base64url').length * 8 < 2048)
    throw new KeyMaterialError(`${where}: RSA key below 2048 bits`);
  // the kid is the key's thumbprint: a file swapped under the manifest is refused, not published under a known kid
  if ((await calculateJwkThumbprint(jwk)) !== expected.kid)
    throw new KeyMaterialError(`${where}: key does not match its kid ${expected.kid}`);
  return { kid: expected.kid, alg: expected.alg, jwk: { ...jwk, kid: expected.kid, alg: expected.alg, use: 'sig' } };
}

export function checkCookieKey(secret: string, id: string, where: string): CookieKey {
  if (secret.length < 32) throw new KeyMaterialError(`${where}: cookie secret shorter than 32 characters`);
  if (cookieKeyId(secret) !== id) throw new KeyMaterialError(`${where}: secret does not match its id ${id}`);
  return { id, secret };
}

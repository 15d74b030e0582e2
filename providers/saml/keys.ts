// Key pairs with self-signed certificates for SAML: the SP's signing and encryption keys (generated in
// the key directory on first start when not configured; development only) and the test IdP's key.
import { webcrypto, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import '../../src/tls/reflect-shim.ts';
import type * as X509 from '@peculiar/x509';

// Loaded dynamically so the Reflect stand-in @peculiar/x509 needs (via tsyringe) is installed first.
const x509: typeof X509 = await import('@peculiar/x509');

export interface KeyPair {
  /** PKCS#8 PEM */
  key: string;
  /** X.509 PEM */
  cert: string;
}

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

/** A fresh RSA-2048 key with a self-signed certificate (SAML trusts certificates as key containers only). */
export async function generateKeyPair(commonName: string, validDays = 3650): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
        .toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: `CN=${commonName.replace(/[,+=<>#;"\\]/g, ' ')}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + validDays * 86_400_000),
      signingAlgorithm: RSA,
      keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { key, cert: `${cert.toString('pem')}\n` };
}

/** Check that a key and certificate belong together and parse; throws with a clear message otherwise. */
export function checkKeyPair(pair: KeyPair, what: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.cert);
  } catch {
    throw new Error(`${what}: certificate is not a valid PEM X.509 certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pair.key);
  } catch {
    throw new Error(`${what}: private key is not a valid PEM key`);
  }
  if (!cert.checkPrivateKey(key)) throw new Error(`${what}: private key does not match the certificate`);
}

/** Read a configured pair, or (outside production) load or create one in keyDir. */
export async function loadOrCreateKeyPair(opts: {
  configured?: { key: string; cert: string } | undefined;
  keyDir: string;
  name: string;
  production: boolean;
  commonName: string;
}): Promise<KeyPair> {
  if (opts.configured) {
    const pair = {
      key: await readFile(opts.configured.key, 'utf8'),
      cert: await readFile(opts.configured.cert, 'utf8'),
    };
    checkKeyPair(pair, opts.name);
    return pair;
  }
  if (opts.production)
    throw new Error(
      `${opts.name}: key and certificate must be configured in production (generated keys are for development only)`,
    );
  const keyPath = join(opts.keyDir, `${opts.name}.key.pem`);
  const certPath = join(opts.keyDir, `${opts.name}.cert.pem`);
  try {
    const pair = { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
    checkKeyPair(pair, opts.name);
    return pair;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pair = await generateKeyPair(opts.commonName);
  await mkdir(opts.keyDir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pair.key, { mode: 0o600, flag: 'wx' });
  await writeFile(certPath, pair.cert, { mode: 0o644, flag: 'wx' });
  return pair;
}

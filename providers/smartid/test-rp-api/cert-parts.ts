// What the test RP API's certificates are made of (./ca.ts, ./ocsp-responder.ts, ../test-odd-answers.ts):
// RSA-2048 keys signing with SHA-256, as SK's demo hierarchy, and serial numbers as a CA draws them.
import { webcrypto } from 'node:crypto';
import '../../../src/tls/reflect-shim.ts';
import type * as X509 from '@peculiar/x509';

const x509: typeof X509 = await import('@peculiar/x509');

export const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;
/** the WebCrypto @peculiar/x509 signs with */
export type Crypto = Parameters<typeof x509.X509CertificateGenerator.create>[1];
export const DAY = 86_400_000;

/** A positive 96-bit serial number (RFC 5280 4.1.2.2: at most 20 octets, the high bit clear). */
export const serial = () =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');

export const newKeys = async () =>
  (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;

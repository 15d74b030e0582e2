// The gateway's TLS policy, shared by the outbound provider transport and the inbound server:
// TLS 1.2 minimum and only forward-secret AEAD suites.
import { createHash, timingSafeEqual, type X509Certificate } from 'node:crypto';

export const TLS_MIN_VERSION = 'TLSv1.2' as const;

/** TLS 1.3 suites (all AEAD) followed by the TLS 1.2 ECDHE + AEAD suites; no CBC, RSA key exchange, SHA-1 MACs. */
export const STRONG_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

/** SHA-256 of a certificate's SubjectPublicKeyInfo (DER), base64: what a pin list holds. */
export function spkiSha256(cert: X509Certificate): string {
  return createHash('sha256')
    .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

/** Whether `pin` is one of `pins` (constant time per comparison). */
export function pinMatches(pin: string, pins: readonly string[]): boolean {
  const a = Buffer.from(pin);
  let found = false;
  for (const candidate of pins) {
    const b = Buffer.from(candidate);
    if (a.length === b.length && timingSafeEqual(a, b)) found = true;
  }
  return found;
}

// The one SHA-256 helper of the tests: digests as the gateway writes them, and certificate thumbprints
// (`x5t#S256`, RFC 8705) as certificate-bound tokens carry them.
import { type BinaryToTextEncoding, X509Certificate, createHash } from 'node:crypto';

export const sha256 = (data: string | Uint8Array, encoding: BinaryToTextEncoding = 'base64url'): string =>
  createHash('sha256').update(data).digest(encoding);

/** `sha256:<base64url>`, as the audit log records a value it does not keep. */
export const taggedSha256 = (data: string | Uint8Array): string => `sha256:${sha256(data)}`;

/** The SHA-256 thumbprint of a PEM certificate's DER bytes, base64url (`cnf.x5t#S256`). */
export const thumbprint = (pem: string): string => sha256(new X509Certificate(pem).raw);

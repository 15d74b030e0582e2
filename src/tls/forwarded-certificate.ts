// Client certificates forwarded by a TLS terminator in a header, in the encodings terminators use.
import { X509Certificate } from 'node:crypto';

/** intermediates a forwarded value may carry after the client certificate */
const MAX_FORWARDED_INTERMEDIATES = 4;

/**
 * Decode a forwarded certificate: URL-encoded PEM (nginx $ssl_client_escaped_cert, AWS ALB), PEM with
 * spaces, or base64 DER. With several PEM blocks the first is the client's; the rest is its chain.
 */
export function parseForwardedChain(value: string): X509Certificate[] {
  try {
    let text = value.trim();
    if (text.includes('%')) text = decodeURIComponent(text);
    const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map(
      (match) => match[1]!,
    );
    if (blocks.length > 1 + MAX_FORWARDED_INTERMEDIATES) return [];
    const out: X509Certificate[] = [];
    for (const body of blocks.length ? blocks : [text]) {
      const b64 = body.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
      if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return [];
      out.push(new X509Certificate(Buffer.from(b64, 'base64')));
    }
    return out;
  } catch {
    return [];
  }
}

/** The client certificate of a forwarded value (see parseForwardedChain). */
export function parseForwardedCertificate(value: string): X509Certificate | undefined {
  return parseForwardedChain(value)[0];
}

/** The PEM certificates of a file, in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

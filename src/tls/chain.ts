// Certificate path validation for client certificates that a TLS terminator forwards in a header.
// Our own TLS listener leaves this to OpenSSL; a forwarded certificate never passed through it, so the
// gateway checks the path itself (defence in depth behind the terminator's own verification): leaf ->
// intermediates -> a self-signed root, where the root must be one of the configured client CAs and the
// intermediates come from the client CA file or from the header itself (as untrusted path material).
// Like OpenSSL without partial chains, a path must end at a configured self-signed root.
import type { X509Certificate } from 'node:crypto';
import './reflect-shim.ts';
import type * as X509 from '@peculiar/x509';

// loaded after the Reflect stand-in (see ./pki.ts); only used to read BasicConstraints' pathLen
const x509: typeof X509 = await import('@peculiar/x509');

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EKU = '2.5.29.37.0';
/** longest path accepted (leaf, up to four intermediates, root) */
const MAX_PATH = 6;

function selfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

function validAt(cert: X509Certificate, now: number): boolean {
  return cert.validFromDate.getTime() <= now && now < cert.validToDate.getTime();
}

/** BasicConstraints pathLen of a CA certificate (undefined: unlimited). */
function pathLength(cert: X509Certificate): number | undefined {
  try {
    return new x509.X509Certificate(cert.raw).getExtension(x509.BasicConstraintsExtension)?.pathLength;
  } catch {
    return 0; // unreadable extensions: allow no further CA below it
  }
}

/** The trust anchors and intermediates of one client CA file. */
export class ClientCaStore {
  private readonly roots: X509Certificate[];
  private readonly intermediates: X509Certificate[];

  constructor(certificates: readonly X509Certificate[]) {
    this.roots = certificates.filter((c) => c.ca && selfSigned(c));
    this.intermediates = certificates.filter((c) => c.ca && !selfSigned(c));
  }

  get size(): number {
    return this.roots.length + this.intermediates.length;
  }

  /**
   * Whether `leaf` chains to a configured root, now: every signature, every validity window, CA flags
   * and pathLen of each issuer, and the leaf allowed for TLS client authentication (when it names
   * extended key usages). `untrusted` are intermediates that came with the leaf.
   */
  verify(leaf: X509Certificate, untrusted: readonly X509Certificate[] = [], now = Date.now()): boolean {
    if (!validAt(leaf, now) || leaf.ca) return false;
    const eku = leaf.keyUsage; // node names the extended key usages `keyUsage`
    if (eku && eku.length > 0 && !eku.includes(CLIENT_AUTH) && !eku.includes(ANY_EKU)) return false;
    const candidates = [...this.roots, ...this.intermediates, ...untrusted.filter((c) => c.ca && !selfSigned(c))];
    const isRoot = (c: X509Certificate) => this.roots.some((r) => r.raw.equals(c.raw));
    // depth-first over possible issuers; `below` counts the CA certificates already between leaf and `cert`
    const walk = (cert: X509Certificate, path: X509Certificate[], below: number): boolean => {
      if (path.length >= MAX_PATH) return false;
      for (const issuer of candidates) {
        if (path.some((p) => p.raw.equals(issuer.raw))) continue;
        if (!validAt(issuer, now) || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) continue;
        const limit = pathLength(issuer);
        if (limit !== undefined && below > limit) continue;
        if (isRoot(issuer)) return true;
        if (walk(issuer, [...path, issuer], below + 1)) return true;
      }
      return false;
    };
    return walk(leaf, [leaf], 0);
  }
}

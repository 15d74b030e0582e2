// Certificates an adapter trusts on every login only while they are valid (those that vouch for a provider's
// answers): one that expires while the gateway runs stops vouching then, not at the next restart. Each
// certificate's validity is parsed once, on first sight, and every check after that compares numbers. A
// certificate counts as expired from its notAfter instant on.
import { X509Certificate } from 'node:crypto';

/** A certificate's validity, ms since the epoch: valid from `notBefore`, expired from `notAfter`. */
export interface Validity {
  notBefore: number;
  notAfter: number;
}

/** Certificates split at an instant: those still valid then, and those expired, each with its notAfter. */
export interface ByExpiry {
  unexpired: readonly X509Certificate[];
  expired: readonly { cert: X509Certificate; notAfter: number }[];
}

export class CertificateValidity<C extends X509Certificate | string> {
  private readonly known = new Map<X509Certificate | string, Validity | undefined>();

  /** The certificate's validity; undefined when it cannot be read (a PEM string only). */
  of(this: CertificateValidity<X509Certificate>, cert: X509Certificate): Validity;
  of(cert: C): Validity | undefined;
  of(cert: X509Certificate | string): Validity | undefined {
    if (!this.known.has(cert)) this.known.set(cert, read(cert));
    return this.known.get(cert);
  }

  /** Within its validity at `now`: no longer expired and not yet valid; an unreadable one never is. */
  validAt(cert: C, now: number): boolean {
    const validity = this.of(cert);
    return validity !== undefined && validity.notBefore <= now && now < validity.notAfter;
  }

  /** Past its notAfter at `now`; an unreadable one counts as expired. */
  expiredAt(cert: C, now: number): boolean {
    const validity = this.of(cert);
    return validity === undefined || now >= validity.notAfter;
  }

  /** Of `certificates`, those not expired at `now`, and those that have, each with when it expired. */
  byExpiry(
    this: CertificateValidity<X509Certificate>,
    certificates: readonly X509Certificate[],
    now: number,
  ): ByExpiry {
    const unexpired: X509Certificate[] = [];
    const expired: { cert: X509Certificate; notAfter: number }[] = [];
    for (const cert of certificates) {
      const { notAfter } = this.of(cert);
      if (now < notAfter) unexpired.push(cert);
      else expired.push({ cert, notAfter });
    }
    return { unexpired, expired };
  }
}

function read(cert: X509Certificate | string): Validity | undefined {
  try {
    const x509 = typeof cert === 'string' ? new X509Certificate(cert) : cert;
    return { notBefore: x509.validFromDate.getTime(), notAfter: x509.validToDate.getTime() };
  } catch {
    return undefined;
  }
}

// When the app has signed, before the browser leaves the waiting page: is the certificate still valid?
// Revoked (or unknown to its CA's responder) ends the login with a page saying so and access_denied.
// Without a current signed answer, `required` ends it as a technical failure (temporarily_unavailable);
// otherwise the login goes on and the operator log says the check could not be made. In production a
// configured responder certificate vouches for no answer once it has expired (as the startup checks refuse
// an expired one): the answers it signs then count as untrusted, with the expiry named in the log.
import { X509Certificate } from 'node:crypto';
import type { AdapterDeps } from '../../src/broker/adapter.ts';
import { CertificateValidity, type ByExpiry } from '../../src/tls/certificate-validity.ts';
import type { SmartIdConfig } from './config.ts';
import type { Ending } from './results.ts';
import { aiaOcspUrl, checkRevocation, type Revocation } from './revocation.ts';

type OcspConfig = NonNullable<SmartIdConfig['ocsp']>;

export class RevocationPolicy {
  private readonly config: OcspConfig;
  private readonly responders: readonly X509Certificate[];
  /** the responders' validity, parsed once */
  private readonly validity = new CertificateValidity<X509Certificate>();
  private readonly production: boolean;
  private readonly cas: readonly X509Certificate[];
  private readonly logger: AdapterDeps['logger'];
  private readonly providerId: string;

  constructor(
    config: OcspConfig,
    responders: readonly X509Certificate[],
    cas: readonly X509Certificate[],
    deps: Pick<AdapterDeps, 'logger' | 'production'>,
    providerId: string,
  ) {
    this.config = config;
    this.responders = responders;
    this.production = deps.production;
    this.cas = cas;
    this.logger = deps.logger;
    this.providerId = providerId;
  }

  /** The configured responders trusted at `now`, and those no longer trusted (expired, in production). */
  private respondersAt(now: number): ByExpiry {
    if (!this.production) return { unexpired: this.responders, expired: [] };
    return this.validity.byExpiry(this.responders, now);
  }

  /** When each configured responder certificate expires (ProviderAdapter.certificateExpiries). */
  responderExpiries(): readonly { role: string; notAfter: number }[] {
    return this.responders.map((cert) => ({ role: 'ocsp_responder', notAfter: this.validity.of(cert).notAfter }));
  }

  /** The ending to record for a completed session: unchanged, or why the certificate is refused. */
  async apply(ending: Ending): Promise<Ending> {
    if (ending.type !== 'complete') return ending;
    const cert = certificateOf(ending.session);
    // a certificate no configured CA issued is refused by the callback's verification anyway
    const issuer = cert && this.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!cert || !issuer) return ending;
    const url = this.config.url ?? aiaOcspUrl(cert);
    const now = Date.now();
    const { unexpired: trusted, expired } = this.respondersAt(now);
    const result: Revocation = url
      ? await checkRevocation(cert, issuer, {
          url,
          responders: trusted,
          maxAgeSeconds: this.config.max_age_seconds,
          requireNonce: this.config.nonce,
          timeoutMs: this.config.timeout_ms,
        })
      : { status: 'failed', reason: 'no OCSP responder configured or named by the certificate' };
    if (result.status === 'good') return ending;
    if (result.status === 'revoked' || result.status === 'unknown') {
      this.logger.warn('Smart-ID certificate refused by OCSP', { providerId: this.providerId, ocsp: result.status });
      return { type: 'revoked', status: result.status };
    }
    const reason = expired.length
      ? `${result.reason}; no longer trusted: ${expired.map(expiredResponder).join(', ')}`
      : result.reason;
    this.logger.warn('Smart-ID OCSP check failed', {
      providerId: this.providerId,
      reason,
      required: this.config.required,
    });
    return this.config.required ? { type: 'revocation_unavailable', reason } : ending;
  }
}

const expiredResponder = ({ cert, notAfter }: ByExpiry['expired'][number]) =>
  `responder certificate ${cert.subject.replace(/\n/g, ', ')} expired on ${new Date(notAfter).toISOString()}`;

function certificateOf(session: unknown): X509Certificate | undefined {
  const value = (session as { cert?: { value?: unknown } } | null)?.cert?.value;
  if (typeof value !== 'string') return undefined;
  try {
    return new X509Certificate(Buffer.from(value, 'base64'));
  } catch {
    return undefined;
  }
}

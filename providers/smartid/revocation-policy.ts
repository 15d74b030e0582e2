// When the app has signed, before the browser leaves the waiting page: is the certificate still valid?
// Revoked (or unknown to its CA's responder) ends the login with a page saying so and access_denied.
// Without a current signed answer, `required` ends it as a technical failure (temporarily_unavailable);
// otherwise the login goes on and the operator log says the check could not be made.
import { X509Certificate } from 'node:crypto';
import type { AdapterDeps } from '../../src/broker/adapter.ts';
import type { SmartIdConfig } from './config.ts';
import type { Ending } from './results.ts';
import { aiaOcspUrl, checkRevocation, type Revocation } from './revocation.ts';

type OcspConfig = NonNullable<SmartIdConfig['ocsp']>;

export class RevocationPolicy {
  private readonly config: OcspConfig;
  private readonly responders: readonly X509Certificate[];
  private readonly cas: readonly X509Certificate[];
  private readonly logger: AdapterDeps['logger'];
  private readonly providerId: string;

  constructor(
    config: OcspConfig,
    responders: readonly X509Certificate[],
    cas: readonly X509Certificate[],
    logger: AdapterDeps['logger'],
    providerId: string,
  ) {
    this.config = config;
    this.responders = responders;
    this.cas = cas;
    this.logger = logger;
    this.providerId = providerId;
  }

  /** The ending to record for a completed session: unchanged, or why the certificate is refused. */
  async apply(ending: Ending): Promise<Ending> {
    if (ending.type !== 'complete') return ending;
    const cert = certificateOf(ending.session);
    // a certificate no configured CA issued is refused by the callback's verification anyway
    const issuer = cert && this.cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
    if (!cert || !issuer) return ending;
    const url = this.config.url ?? aiaOcspUrl(cert);
    const result: Revocation = url
      ? await checkRevocation(cert, issuer, {
          url,
          responders: this.responders,
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
    this.logger.warn('Smart-ID OCSP check failed', {
      providerId: this.providerId,
      reason: result.reason,
      required: this.config.required,
    });
    return this.config.required ? { type: 'revocation_unavailable', reason: result.reason } : ending;
  }
}

function certificateOf(session: unknown): X509Certificate | undefined {
  const value = (session as { cert?: { value?: unknown } } | null)?.cert?.value;
  if (typeof value !== 'string') return undefined;
  try {
    return new X509Certificate(Buffer.from(value, 'base64'));
  } catch {
    return undefined;
  }
}

// The gateway's own client certificates: a provider entry's `tls.cert`, presented on that provider's back
// channel (mutual TLS). Startup refuses an expired one in production (./material-checks.ts); one that expires
// while the gateway runs would otherwise show only as the provider's handshakes failing, every login there an
// outage. Each is parsed once at start; a check compares numbers, hourly and at each metrics scrape, and logs
// a structured warning when the expiry is near (`security.cert_expiry_warning_days`) or past: on reaching
// that state, and daily while it lasts.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../logger.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ClientCertificate {
  providerId: string;
  /** the certificate's notAfter, ms since the epoch */
  notAfter: number;
}

type Standing = 'valid' | 'expiring' | 'expired';

/** The client certificates the provider entries name (the leaf: the first certificate of each file). An
 * unreadable one is left out: the startup checks have refused it already. */
export function clientCertificatesOf(
  providers: readonly { id: string; tls?: { cert?: string | undefined } | undefined }[],
): ClientCertificate[] {
  return providers.flatMap(({ id, tls }) => {
    if (!tls?.cert) return [];
    try {
      return [{ providerId: id, notAfter: new X509Certificate(readFileSync(tls.cert)).validToDate.getTime() }];
    } catch {
      return [];
    }
  });
}

export class ClientCertificateWatch {
  readonly certificates: readonly ClientCertificate[];
  private readonly logger: Logger;
  private readonly warningMs: number;
  private readonly warned = new Map<string, { standing: Standing; at: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(certificates: readonly ClientCertificate[], logger: Logger, warningDays: number) {
    this.certificates = certificates;
    this.logger = logger;
    this.warningMs = warningDays * DAY;
  }

  check(now = Date.now()): void {
    for (const { providerId, notAfter } of this.certificates) {
      const left = notAfter - now;
      const standing: Standing = left <= 0 ? 'expired' : left <= this.warningMs ? 'expiring' : 'valid';
      const last = this.warned.get(providerId);
      if (standing === 'valid') {
        this.warned.delete(providerId);
        continue;
      }
      if (last?.standing === standing && now - last.at < DAY) continue;
      this.warned.set(providerId, { standing, at: now });
      const fields = { providerId, notAfter: new Date(notAfter).toISOString(), daysLeft: Math.floor(left / DAY) };
      if (standing === 'expired')
        this.logger.warn('gateway client certificate has expired: the provider will refuse its back channel', fields);
      else this.logger.warn('gateway client certificate expires soon', fields);
    }
  }

  /** Checks now and then hourly, until `stop`. */
  start(): this {
    this.check();
    this.timer = setInterval(() => this.check(), HOUR);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

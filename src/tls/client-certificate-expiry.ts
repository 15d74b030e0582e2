// The gateway's own client certificates: a provider entry's `tls.cert`, presented on that provider's back
// channel (mutual TLS). Startup refuses an expired one in production (./material-checks.ts); one that expires
// while the gateway runs would otherwise show only as the provider's handshakes failing, every login there an
// outage. Each is parsed once at start; a check compares numbers, hourly and at each metrics scrape, and logs
// a structured warning when the expiry is near (`security.cert_expiry_warning_days`) or past: on reaching
// that state, and daily while it lasts. The same watch covers the certificates an adapter declares its logins
// rely on (ProviderAdapter.certificateExpiries: a configured OCSP responder's, say), each by its role. Under
// `start --workers N` every worker watches them for its own gauges, and one of them logs the warnings.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../logger.ts';
import type { ProviderAdapter } from '../broker/adapter.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface ClientCertificate {
  providerId: string;
  /** the certificate's notAfter, ms since the epoch */
  notAfter: number;
  /** absent: the gateway's client certificate (`tls.cert`); else what the adapter says the certificate is for */
  role?: string | undefined;
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
  /** undefined: another process of this gateway logs the warnings; this watch only feeds its gauges */
  private readonly logger: Logger | undefined;
  private readonly warningMs: number;
  private readonly warned = new Map<string, { standing: Standing; at: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(certificates: readonly ClientCertificate[], logger: Logger | undefined, warningDays: number) {
    this.certificates = certificates;
    this.logger = logger;
    this.warningMs = warningDays * DAY;
  }

  check(now = Date.now()): void {
    const logger = this.logger;
    if (!logger) return;
    for (const { providerId, notAfter, role } of this.certificates) {
      const left = notAfter - now;
      const standing: Standing = left <= 0 ? 'expired' : left <= this.warningMs ? 'expiring' : 'valid';
      const key = JSON.stringify([providerId, role ?? null, notAfter]);
      const last = this.warned.get(key);
      if (standing === 'valid') {
        this.warned.delete(key);
        continue;
      }
      if (last?.standing === standing && now - last.at < DAY) continue;
      this.warned.set(key, { standing, at: now });
      const fields = {
        providerId,
        ...(role === undefined ? {} : { role }),
        notAfter: new Date(notAfter).toISOString(),
        daysLeft: Math.floor(left / DAY),
      };
      // an adapter's certificate: once expired, its provider's logins no longer trust what it vouched for
      const what = role === undefined ? 'gateway client certificate' : 'provider certificate';
      if (standing === 'expired')
        logger.warn(
          role === undefined ? `${what} has expired: the provider will refuse its back channel` : `${what} has expired`,
          fields,
        );
      else logger.warn(`${what} expires soon`, fields);
    }
  }

  /** The adapters' certificates: of each provider and role, the one that expires first. */
  earliestByRole(): (ClientCertificate & { role: string })[] {
    const earliest = new Map<string, ClientCertificate & { role: string }>();
    for (const { providerId, role, notAfter } of this.certificates) {
      if (role === undefined) continue;
      const key = JSON.stringify([providerId, role]);
      if (notAfter < (earliest.get(key)?.notAfter ?? Number.POSITIVE_INFINITY))
        earliest.set(key, { providerId, role, notAfter });
    }
    return [...earliest.values()];
  }

  /** Checks now and then hourly, until `stop` (only where it logs). */
  start(): this {
    if (!this.logger) return this;
    this.check();
    this.timer = setInterval(() => this.check(), HOUR);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The watch of a gateway's certificates, started: its provider entries' client certificates and those
 * their adapters declare, warned of `security.cert_expiry_warning_days` ahead (`warns`: by this process). */
export function watchCertificates(
  config: {
    providers: readonly { config: Parameters<typeof clientCertificatesOf>[0][number] }[];
    security: { cert_expiry_warning_days: number };
  },
  adapters: Iterable<ProviderAdapter>,
  logger: Logger,
  warns = true,
): ClientCertificateWatch {
  // the certificates their adapters declare (ProviderAdapter.certificateExpiries), by provider and role
  const declared = [...adapters].flatMap((adapter) =>
    (adapter.certificateExpiries?.() ?? []).map(({ role, notAfter }) => ({ providerId: adapter.id, role, notAfter })),
  );
  const certificates = [...clientCertificatesOf(config.providers.map((p) => p.config)), ...declared];
  const warningDays = config.security.cert_expiry_warning_days;
  return new ClientCertificateWatch(certificates, warns ? logger : undefined, warningDays).start();
}

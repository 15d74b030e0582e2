// Prometheus metrics (prom-client), one registry per gateway. Every label value is bounded: provider and
// client ids only as configured (anything else is `unknown`), reasons and steps from closed vocabularies.
// Login counters are read off the audit events (src/audit/events.ts), whose vocabulary is closed too, so
// no personal code or free text can reach a label.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent } from '../audit/events.ts';
import type { KeyAgreement } from '../keys/agreement-verdict.ts';
import type { ClientCertificateWatch } from '../tls/client-certificate-expiry.ts';

/** Why a login failed or an upstream round trip went wrong: OAuth error codes and the provider codes. */
export const REASONS = new Set([
  'invalid_request',
  'invalid_scope',
  'invalid_client',
  'invalid_grant',
  'invalid_target',
  'invalid_redirect_uri',
  'unauthorized_client',
  'unsupported_response_type',
  'unsupported_grant_type',
  'request_not_supported',
  'request_uri_not_supported',
  'invalid_request_uri',
  'invalid_request_object',
  'login_required',
  'interaction_required',
  'consent_required',
  'account_selection_required',
  'unmet_authentication_requirements',
  'access_denied',
  'user_cancel',
  'temporarily_unavailable',
  'server_error',
  'invalid_response',
  'loa_too_low',
]);

/** The steps whose latency is measured, by the route that serves them (see `stepOf`). */
export type Step = 'authorization' | 'interaction' | 'start' | 'callback' | 'token' | 'userinfo';

export interface MetricsScope {
  providers: readonly string[];
  clients: readonly string[];
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly providers: Set<string>;
  private readonly clients: Set<string>;
  readonly started: Counter<'provider' | 'client'>;
  readonly completed: Counter<'provider' | 'client'>;
  readonly failed: Counter<'provider' | 'client' | 'step' | 'reason'>;
  readonly upstreamErrors: Counter<'provider' | 'step' | 'reason'>;
  readonly stepSeconds: Histogram<'step' | 'provider' | 'status'>;
  readonly upstreamSeconds: Histogram<'provider' | 'step' | 'outcome'>;
  readonly auditAppendSeconds: Histogram;
  readonly auditBatchSize: Histogram;
  readonly storeSeconds: Histogram<'op'>;
  private keyAgreement: (() => KeyAgreement) | undefined;
  private clientCertificates: ClientCertificateWatch | undefined;

  constructor(scope: MetricsScope) {
    this.providers = new Set(scope.providers);
    this.clients = new Set(scope.clients);
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'vpm_process_' });
    const pc = ['provider', 'client'] as const;
    this.started = new Counter({
      name: 'vpm_logins_started_total',
      help: 'Logins sent to a provider (a login that chooses again counts again)',
      labelNames: pc,
      registers,
    });
    this.completed = new Counter({
      name: 'vpm_logins_completed_total',
      help: 'Logins that ended with tokens issued to the agency service',
      labelNames: pc,
      registers,
    });
    this.failed = new Counter({
      name: 'vpm_logins_failed_total',
      help: 'Logins that ended with an error at the agency service (step: authorization or token)',
      labelNames: [...pc, 'step', 'reason'],
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'vpm_upstream_errors_total',
      help: 'Provider round trips that failed: request (start), response (callback) or verification',
      labelNames: ['provider', 'step', 'reason'],
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'vpm_step_duration_seconds',
      help: 'Time to answer one login step (callback includes the upstream round trips of verification)',
      labelNames: ['step', 'provider', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.upstreamSeconds = new Histogram({
      name: 'vpm_upstream_duration_seconds',
      help: "A provider adapter's work per login: start (building the request, PAR) and callback (verifying the answer with its back-channel calls: token, JWKS, userinfo), by outcome (ok or the error code)",
      labelNames: ['provider', 'step', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.auditAppendSeconds = new Histogram({
      name: 'vpm_audit_append_seconds',
      help: 'Time until an audit event is durable (group commit wait included)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.auditBatchSize = new Histogram({
      name: 'vpm_audit_batch_size',
      help: 'Entries per durable audit write (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.storeSeconds = new Histogram({
      name: 'vpm_store_operation_seconds',
      help: 'Store operation latency',
      labelNames: ['op'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    // read at each scrape; with workers the primary shows the highest of their values
    const agreement = () => this.keyAgreement?.();
    new Gauge({
      name: 'vpm_keys_disagreement',
      help: 'Whether this instance is not ready because other instances run another key set (1) or not (0)',
      aggregator: 'max',
      registers,
      collect() {
        const status = agreement();
        if (status) this.set(status.standing === 'ok' ? 0 : 1);
      },
    });
    new Gauge({
      name: 'vpm_keys_instances_differing',
      help: 'Other live instances whose key set differs from this one (at the last reload; briefly so during a rotation)',
      aggregator: 'max',
      registers,
      collect() {
        const status = agreement();
        if (status) this.set(status.differing);
      },
    });
    // a scrape checks them too: what monitoring sees the log says
    const certificates = () => this.clientCertificates;
    const label = (id: string) => this.provider(id);
    new Gauge({
      name: 'vpm_client_certificate_expiry_timestamp_seconds',
      help: "When the gateway's client certificate for a provider's back channel (its tls.cert) expires",
      labelNames: ['provider'],
      aggregator: 'min',
      registers,
      collect() {
        const watch = certificates();
        watch?.check();
        for (const c of watch?.certificates ?? [])
          if (c.role === undefined) this.set({ provider: label(c.providerId) }, c.notAfter / 1000);
      },
    });
    new Gauge({
      name: 'vpm_provider_certificate_expiry_timestamp_seconds',
      help: "When a certificate a provider's logins rely on (by its role, e.g. ocsp_responder) expires; the earliest of a role",
      labelNames: ['provider', 'role'],
      aggregator: 'min',
      registers,
      collect() {
        // checked by the client certificate gauge in the same scrape
        for (const c of certificates()?.earliestByRole() ?? [])
          this.set({ provider: label(c.providerId), role: c.role }, c.notAfter / 1000);
      },
    });
  }

  /** The client certificates whose expiry the gauge shows. */
  watchClientCertificates(watch: ClientCertificateWatch): void {
    this.clientCertificates = watch;
  }

  /** Where the key-set agreement gauges read from (the gateway's running keys). */
  watchKeyAgreement(read: () => KeyAgreement): void {
    this.keyAgreement = read;
  }

  provider(id: unknown): string {
    if (id === undefined || id === null) return 'none';
    return typeof id === 'string' && this.providers.has(id) ? id : 'unknown';
  }

  client(id: unknown): string {
    if (id === undefined || id === null) return 'none';
    return typeof id === 'string' && this.clients.has(id) ? id : 'unknown';
  }

  reason(code: unknown): string {
    return typeof code === 'string' && REASONS.has(code) ? code : 'other';
  }

  /** Counts what one audit event says about a login. */
  observeEvent(event: AuditEvent): void {
    const provider = this.provider(event.providerId);
    const client = this.client(event.clientId);
    const detail = event.detail ?? {};
    switch (event.type) {
      case 'provider_request':
        this.started.inc({ provider, client });
        break;
      case 'tokens_issued':
        if (detail.grant_type === 'authorization_code') this.completed.inc({ provider, client });
        break;
      case 'authorization_request_error':
        this.failed.inc({ provider, client, step: 'authorization', reason: this.reason(detail.error) });
        break;
      case 'tokens_issued_error':
        // the engine's error message is its OAuth error code
        this.failed.inc({ provider, client, step: 'token', reason: this.reason(detail.error) });
        break;
      case 'provider_request_error':
        this.upstreamErrors.inc({ provider, step: 'request', reason: 'temporarily_unavailable' });
        break;
      case 'provider_response_error':
        this.upstreamErrors.inc({ provider, step: 'response', reason: 'invalid_response' });
        break;
      case 'verification_error':
        this.upstreamErrors.inc({ provider, step: 'verification', reason: this.reason(detail.code) });
        break;
    }
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The step a request serves, or undefined for requests not measured. */
export function stepOf(method: string, path: string): { step: Step; provider?: string } | undefined {
  if (path === '/auth' || path.startsWith('/auth/') || path === '/request') return { step: 'authorization' };
  if (path === '/token') return { step: 'token' };
  if (path === '/me') return { step: 'userinfo' };
  if (path.startsWith('/broker/callback/')) return { step: 'callback', provider: path.slice(17) };
  if (path.startsWith('/interaction/'))
    return method === 'POST' && path.endsWith('/provider') ? { step: 'start' } : { step: 'interaction' };
  return undefined;
}

// The closed audit vocabulary (after Keycloak's event types): every event has a stable code, and every
// step that can fail has a paired *_error event. The file-backed, signed log lives in ./log.ts; this
// module is what the rest of the gateway depends on.
import type { AuditStatus } from './options.ts';
import type { Checkpoint } from './checkpoint-format.ts';

export const AUDIT_EVENTS = {
  authorization_request: 'A100',
  authorization_request_error: 'A101',
  provider_chosen: 'A110',
  provider_request: 'A120',
  provider_request_error: 'A121',
  provider_response: 'A130',
  provider_response_error: 'A131',
  verification: 'A140',
  verification_error: 'A141',
  identity_released: 'A150',
  identity_released_error: 'A151',
  tokens_issued: 'A160',
  tokens_issued_error: 'A161',
  logout: 'A170',
  logout_error: 'A171',
  legacy_algorithm_used: 'A180',
  error: 'A199',
  config_loaded: 'S100',
  config_error: 'S101',
  registry_change: 'S110',
  registry_change_error: 'S111',
  /** a torn tail (an interrupted, never acknowledged write) was moved aside at start-up; detail says where */
  audit_log_repaired: 'S120',
  /** the writer lock of a writer that is gone (dead pid on this host) was taken over; detail names it */
  audit_writer_lock_taken_over: 'S121',
  /** old segments were retired (audit.retention_days): detail names them, the first entry kept (`before`) and
   * whether they were moved to audit.archive_dir */
  audit_segments_retired: 'S122',
} as const;

export type AuditEventType = keyof typeof AUDIT_EVENTS;

/** Personal data the log must never hold in plain text; the audit log hashes/encrypts it. */
export interface AuditSubject {
  /** personal code with country, e.g. `PNOLV-010180-15097`; stored only as a keyed hash */
  subject: string;
  /** released claims (identity_released), or the provider's raw values behind the identity (verification:
   * the adapter's `RawIdentity.raw`); stored only encrypted to the auditor key, when one is configured */
  claims?: Record<string, unknown>;
}

export interface AuditEvent {
  type: AuditEventType;
  /** shared by every event of one login */
  correlationId?: string;
  clientId?: string;
  providerId?: string;
  person?: AuditSubject;
  /** non-personal detail (digests, scopes, redirect URI, error codes) */
  detail?: Record<string, unknown>;
}

export interface AuditLog {
  /** Resolves once the event is durable; rejects when it cannot be written (callers fail closed). */
  record(event: AuditEvent): Promise<void>;
  close(): Promise<void>;
  /** Whether entries can be written now (readiness); absent: always. */
  status?(): AuditStatus;
  /** The latest signed checkpoint, for outside monitors; absent: none kept. */
  latestCheckpoint?(): Checkpoint | undefined;
}

export class AuditUnavailableError extends Error {
  override name = 'AuditUnavailableError';
}

/** Keeps events in memory: for unit tests of components that emit events. */
export class MemoryAuditLog implements AuditLog {
  readonly events: (AuditEvent & { time: string })[] = [];
  failing = false;

  async record(event: AuditEvent): Promise<void> {
    if (this.failing) throw new AuditUnavailableError('audit log unavailable');
    this.events.push({ ...event, time: new Date().toISOString() });
  }

  types(correlationId?: string): AuditEventType[] {
    return this.events.filter((e) => !correlationId || e.correlationId === correlationId).map((e) => e.type);
  }

  async close(): Promise<void> {}
}

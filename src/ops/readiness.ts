// Readiness (/readyz): whether this instance should be sent logins now. Liveness (/healthz) is only that
// the process answers. Each check says `ok` or a fixed phrase: never a path, URL, key or error text.
import type { AuditLog } from '../audit/events.ts';
import type { Store } from '../store/store.ts';

export interface ReadinessDeps {
  store: Store;
  audit: AuditLog;
  /** the token signing keys loaded */
  signingKeys(): number;
  /** `ok`, or why this instance's key set lost a disagreement with other instances (a fixed phrase) */
  keySet(): string;
  /** true once a graceful shutdown has begun */
  stopping(): boolean;
  /** longest wait for the store's answer (default 1000 ms) */
  storeTimeoutMs?: number;
}

export interface Readiness {
  ready: boolean;
  checks: Record<'store' | 'keys' | 'key_set' | 'audit' | 'shutdown', string>;
}

const PING_KEY = 'readyz:ping';

async function pingStore(store: Store, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve('no answer in time'), timeoutMs);
  });
  try {
    // a write, as every login makes: a store that answers reads but refuses writes (out of memory, a failed
    // save, a replica's READONLY) logs nobody in. One small key with a short life, shared by all instances
    return await Promise.race([store.set(PING_KEY, String(Date.now()), 10).then(() => 'ok'), timeout]);
  } catch {
    return 'unreachable or refusing writes';
  } finally {
    clearTimeout(timer);
  }
}

function auditCheck(audit: AuditLog): string {
  const status = audit.status?.();
  if (!status || status.healthy) return 'ok';
  if (status.error === 'closed') return 'closed';
  if (status.error?.includes('min_free_bytes')) return 'below its free-space floor';
  return 'unavailable';
}

export async function readiness(deps: ReadinessDeps): Promise<Readiness> {
  const checks = {
    store: await pingStore(deps.store, deps.storeTimeoutMs ?? 1000),
    keys: deps.signingKeys() > 0 ? 'ok' : 'no signing keys loaded',
    key_set: deps.keySet(),
    audit: auditCheck(deps.audit),
    shutdown: deps.stopping() ? 'shutting down' : 'ok',
  };
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

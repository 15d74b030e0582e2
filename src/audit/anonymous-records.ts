// Audit records no login can be found for (a provider callback whose state no login issued, an
// authorization request refused before it became a login, a rate limit met outside any login) are anyone's
// to cause. The per-address limits bound one sender, not thousands of addresses, so these records are also
// bounded for the whole deployment (counted in the store, every instance together): up to
// `limits.anonymous_records` per window are written one by one, the first beyond is one record that the
// limit was reached, later ones only a debug line. Records of a login are never held back.
import type { LimitsConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { AuditEvent, AuditLog } from './events.ts';

export interface AnonymousRecordsDeps {
  audit: AuditLog;
  store: Store;
  logger: Logger;
  limits: Pick<LimitsConfig, 'anonymous_records' | 'window_seconds'>;
}

export type RecordAnonymous = (event: AuditEvent) => Promise<void>;

export function anonymousRecords(deps: AnonymousRecordsDeps): RecordAnonymous {
  const { audit, store, logger } = deps;
  return async (event) => {
    const { anonymous_records: limit, window_seconds } = deps.limits;
    // a count the store cannot keep (it is away) holds nothing back
    const count = await store
      .increment('rate:anonymous_records', window_seconds)
      .then((counted) => counted.count)
      .catch(() => 0);
    if (count <= limit) return audit.record(event);
    if (count > limit + 1) {
      logger.debug('anonymous audit record left out', { type: event.type });
      return;
    }
    const bucket = 'anonymous_records';
    logger.warn('rate limit reached', { bucket, limit, window_seconds });
    await audit.record({ type: 'error', detail: { reason: 'rate_limited', bucket, limit, window_seconds } });
  };
}

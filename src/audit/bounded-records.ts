// Audit records anyone can cause without a login are bounded, so that no flood grows the durable log at
// will: up to a limit per window (counted in the store, every instance together) they are written one by
// one, the first beyond is one record that the limit was reached, later ones only a debug line. When the
// count cannot be kept (the store is away) the record is written: nothing is held back unseen.
// - Failed token requests, per client address (`limits.token_errors`, src/login/engine-events.ts): the token
//   endpoint needs no session.
// - Records no login can be found for (a provider callback whose state no login issued, an authorization
//   request refused before it became a login, a rate limit met outside any login), for the whole
//   deployment (`limits.anonymous_records`): the per-address limits bound one sender, not thousands of
//   addresses. Records of a login are never held back.
import type { LimitsConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { AuditEvent, AuditLog } from './events.ts';

export interface BoundedRecordsDeps<L extends Pick<LimitsConfig, 'window_seconds'>> {
  audit: AuditLog;
  store: Store;
  logger: Logger;
  limits: L;
}

/** Who a bounded record is counted for: an address (counted apart), and the client the limit record names. */
export interface Counted {
  address?: string | undefined;
  clientId?: string | undefined;
}

export type RecordBounded = (event: AuditEvent, counted?: Counted) => Promise<void>;

/** Writes records of `bucket` within the limit `limitOf` reads from the configuration (see the top). */
export function boundedRecords<L extends Pick<LimitsConfig, 'window_seconds'>>(
  deps: BoundedRecordsDeps<L>,
  bucket: string,
  limitOf: (limits: L) => number,
): RecordBounded {
  const { audit, store, logger } = deps;
  return async (event, { address, clientId } = {}) => {
    const limit = limitOf(deps.limits);
    const { window_seconds } = deps.limits;
    const count = await store
      .increment(address === undefined ? `rate:${bucket}` : `rate:${bucket}:${address}`, window_seconds)
      .then((counted) => counted.count)
      .catch(() => 0);
    if (count <= limit) return audit.record(event);
    if (count > limit + 1) {
      logger.debug('audit record left out', { bucket, type: event.type });
      return;
    }
    const where = address === undefined ? {} : { address };
    logger.warn('rate limit reached', { bucket, ...where, limit, window_seconds });
    await audit.record({
      type: 'error',
      ...(clientId === undefined ? {} : { clientId }),
      detail: { reason: 'rate_limited', bucket, ...where, limit, window_seconds },
    });
  };
}

export type RecordAnonymous = (event: AuditEvent) => Promise<void>;

/** Records no login can be found for, bounded for the whole deployment by `limits.anonymous_records`. */
export function anonymousRecords(
  deps: BoundedRecordsDeps<Pick<LimitsConfig, 'anonymous_records' | 'window_seconds'>>,
): RecordAnonymous {
  const record = boundedRecords(deps, 'anonymous_records', (limits) => limits.anonymous_records);
  return (event) => record(event);
}

/** How a record is written: through `anonymous` when no login is known for it (and one is given). */
export function recorderFor(
  audit: AuditLog,
  anonymous: RecordAnonymous | undefined,
  ofLogin: boolean,
): RecordAnonymous {
  return ofLogin || !anonymous ? (event) => audit.record(event) : anonymous;
}

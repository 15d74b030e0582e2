// Userinfo answers anyone holding an access token, with no session, and each answer is a durable
// `identity_released` record: a leaked or looping token must not grow the audit log at will. Each login (its
// grant) may fetch userinfo `limits.userinfo` times per window; beyond, 429 with Retry-After (RFC 6585 4) and
// nothing released or recorded but the first refusal. Counted only once the engine has verified the token,
// so made-up tokens leave no counter in the store.
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../audit/events.ts';
import type { LimitsConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';

export interface UserinfoLimitDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  limits: Pick<LimitsConfig, 'userinfo' | 'window_seconds'>;
}

/** The refusal: the engine answers it as `{"error":"invalid_request"}` with its status, 429. */
class TooManyUserinfoRequests extends errors.OIDCProviderError {
  override error_description = 'userinfo was asked too often for this login; try again after Retry-After seconds';
  constructor() {
    super(429, 'invalid_request');
  }
}

/** Counts one userinfo answer for the login of `grantId`; throws the 429 beyond the limit. */
export async function countUserinfo(
  deps: UserinfoLimitDeps,
  ctx: KoaContextWithOIDC,
  grantId: string,
  login: { correlationId: string; clientId: string },
): Promise<void> {
  const { userinfo: limit, window_seconds } = deps.limits;
  const { count, ttl } = await deps.store.increment(`rate:userinfo:${grantId}`, window_seconds);
  if (count <= limit) return;
  ctx.set('Retry-After', String(ttl));
  if (count === limit + 1) {
    const bucket = 'userinfo';
    deps.logger.warn('rate limit reached', { bucket, correlationId: login.correlationId, limit, window_seconds });
    await deps.audit.record({
      type: 'error',
      correlationId: login.correlationId,
      clientId: login.clientId,
      detail: { reason: 'rate_limited', bucket, limit, window_seconds },
    });
  }
  throw new TooManyUserinfoRequests();
}

// Abuse limits per client address in front of the authorization endpoint, the login pages, the provider
// callbacks and the adapters' own pages. Every request there costs durable audit entries and store state,
// so a single address must not be able to grow them at will. Counted in the Store (fixed windows), so every gateway
// instance on the same store sees the same count. A refused request of a login keeps the way back to the
// service (./limited-login.ts).
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { Store } from '../store/store.ts';
import { type RecordAnonymous, recorderFor } from '../audit/bounded-records.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { LimitsConfig } from '../config/schema.ts';
import { errorPage } from './views.ts';
import { pickLocale } from './i18n.ts';
import { siteOf } from './outcome.ts';
import { isWayBack, loginUidOf, type FindLogin, type LimitedLogin } from './limited-login.ts';
import { clientKey } from '../login/client-key.ts';

export interface RateLimitDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  limits: LimitsConfig;
  /** the login a request's path names (./limited-login.ts) */
  findLogin: FindLogin;
  /** how a record no login can be found for is written (src/audit/bounded-records.ts); default audit.record */
  recordAnonymous?: RecordAnonymous | undefined;
}

interface Count {
  bucket: string;
  limit: number;
  address: string;
  /** this request's number in the window */
  count: number;
  /** seconds until the window ends: Retry-After */
  ttl: number;
}

/** One request counted in `bucket`, whose limit is `limit`. */
async function countIn(deps: RateLimitDeps, bucket: string, limit: number, address: string): Promise<Count> {
  const { count, ttl } = await deps.store.increment(`rate:${bucket}:${address}`, deps.limits.window_seconds);
  return { bucket, limit, address, count, ttl };
}

/** Counts each request of `bucket` against `limit` per address and window; over it, 429 with Retry-After.
 * A request of a login gets the way back to the service on its page; the way back itself, refused by its
 * route's bucket, is counted once more in the small `way_back` bucket and let through while that allows:
 * a limited user can always end the login at the service, and a flood of ways back still meets a limit. */
export function rateLimit(deps: RateLimitDeps, bucket: string, limit: number): RequestHandler {
  return async (req: Request, res, next) => {
    const address = clientKey(req.ip);
    const counted = await countIn(deps, bucket, limit, address);
    if (counted.count <= limit) {
      next();
      return;
    }
    const uid = loginUidOf(req);
    const login = uid ? await deps.findLogin(uid) : undefined;
    let audited = await noteReached(deps, counted, login);
    let retryAfter = counted.ttl;
    if (login && isWayBack(req, login)) {
      const wayBack = await countIn(deps, 'way_back', deps.limits.way_back, address);
      if (wayBack.count <= wayBack.limit) {
        deps.logger.debug('rate limited: the way back let through', { bucket, address });
        next();
        return;
      }
      audited = (await noteReached(deps, wayBack, login)) || audited;
      // either window ending lets the way back through again
      retryAfter = Math.min(retryAfter, wayBack.ttl);
    }
    // each login refused is audited once, under its correlation id (the page's reference); a marker only
    // for a login the engine knows, so made-up uids in the path cannot grow the store
    if (login && (await deps.store.setIfAbsent(`rate-limited:${login.uid}`, '1', login.secondsLeft)) && !audited)
      await auditRefusal(deps, counted, login);
    const chosen = typeof req.query?.ui_locales === 'string' ? req.query.ui_locales : login?.uiLocales;
    res
      .status(429)
      .set('Retry-After', String(retryAfter))
      .type('html')
      .send(
        errorPage({
          locale: pickLocale(chosen, req.get('accept-language')),
          message: 'error_rate_limited',
          nonce: (res.locals.cspNonce as string) ?? '',
          site: siteOf(res),
          // the login ends with temporarily_unavailable (src/login/ending.ts): the service may try again later
          end: login ? { uid: login.uid, reason: 'rate_limited', clientId: login.clientId } : undefined,
          reference: login?.uid,
        }),
      );
  };
}

/** The first request over a bucket's limit in a window: one log line at warn and one audit record per
 * address, bucket and window, as the refusals themselves must not grow the log the limit protects. Later
 * ones log at debug. True when it was audited. */
async function noteReached(deps: RateLimitDeps, over: Count, login: LimitedLogin | undefined): Promise<boolean> {
  const { bucket, address, limit, count, ttl } = over;
  if (count !== limit + 1) {
    deps.logger.debug('rate limited', { bucket, address });
    return false;
  }
  const window_seconds = deps.limits.window_seconds;
  deps.logger.warn('rate limit reached', { bucket, address, limit, window_seconds, retry_after: ttl });
  await auditRefusal(deps, over, login);
  return true;
}

async function auditRefusal(deps: RateLimitDeps, over: Count, login: LimitedLogin | undefined): Promise<void> {
  const { bucket, address, limit } = over;
  await recorderFor(
    deps.audit,
    deps.recordAnonymous,
    !!login,
  )({
    type: 'error',
    correlationId: login?.uid,
    clientId: login?.clientId,
    detail: { reason: 'rate_limited', bucket, address, limit, window_seconds: deps.limits.window_seconds },
  }).catch((err: Error) => deps.logger.error('audit of a rate limit failed', { error: err.name }));
}

/** Limits for the authorization endpoint (and its resume path), logout, the login pages, provider
 * callbacks and the pages adapters serve themselves. Logout counts with the authorization requests: each
 * one without a session cookie makes the engine store a new session for its confirmation form. */
export function rateLimitRoutes(deps: RateLimitDeps): Router {
  const router = express.Router();
  router.use('/auth', rateLimit(deps, 'auth', deps.limits.authorization));
  router.use('/session/end', rateLimit(deps, 'auth', deps.limits.authorization));
  router.use('/interaction', rateLimit(deps, 'interaction', deps.limits.interaction));
  router.use('/broker/callback', rateLimit(deps, 'callback', deps.limits.callback));
  // an adapter's own pages (Smart-ID's form, waiting page, status poll and QR code) in a bucket of their
  // own; what they start (an RP API session) needs a login begun under the `interaction` bucket
  router.use('/providers', rateLimit(deps, 'provider_pages', deps.limits.provider_pages));
  return router;
}

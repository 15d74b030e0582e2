// Abuse limits per client address in front of the authorization endpoint, the login pages and the
// provider callbacks. Every request there costs durable audit entries and store state, so a single
// address must not be able to grow them at will. Counted in the Store (fixed windows), so every gateway
// instance on the same store sees the same count.
import express, { type Request, type RequestHandler, type Router } from 'express';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { LimitsConfig } from '../config/schema.ts';
import { errorPage } from './views.ts';
import { pickLocale } from './i18n.ts';
import { siteOf } from './outcome.ts';

export interface RateLimitDeps {
  store: Store;
  audit: AuditLog;
  logger: Logger;
  limits: LimitsConfig;
}

/** The address a limit counts: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, the smallest block
 * one subscriber is usually given; rotating addresses inside it must not escape the limit. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^(?:::ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (v4) return v4[1]!;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Counts each request of `bucket` against `limit` per address and window; over it, 429 with Retry-After. */
export function rateLimit(deps: RateLimitDeps, bucket: string, limit: number): RequestHandler {
  return async (req: Request, res, next) => {
    const address = clientKey(req.ip);
    const { count, ttl } = await deps.store.increment(`rate:${bucket}:${address}`, deps.limits.window_seconds);
    if (count <= limit) {
      next();
      return;
    }
    // one log line at warn and one audit record per address, bucket and window: the refusals themselves
    // must not grow the log the limit protects
    if (count === limit + 1) {
      deps.logger.warn('rate limit reached', {
        bucket,
        address,
        limit,
        window_seconds: deps.limits.window_seconds,
        retry_after: ttl,
      });
      await deps.audit
        .record({
          type: 'error',
          detail: { reason: 'rate_limited', bucket, address, limit, window_seconds: deps.limits.window_seconds },
        })
        .catch((err: Error) => deps.logger.error('audit of a rate limit failed', { error: err.name }));
    } else {
      deps.logger.debug('rate limited', { bucket, address });
    }
    const locale = pickLocale(req.query?.ui_locales, req.get('accept-language'));
    res
      .status(429)
      .set('Retry-After', String(ttl))
      .type('html')
      .send(
        errorPage({
          locale,
          message: 'error_rate_limited',
          nonce: (res.locals.cspNonce as string) ?? '',
          site: siteOf(res),
        }),
      );
  };
}

/** Limits for the authorization endpoint (and its resume path), the login pages and provider callbacks. */
export function rateLimitRoutes(deps: RateLimitDeps): Router {
  const router = express.Router();
  router.use('/auth', rateLimit(deps, 'auth', deps.limits.authorization));
  router.use('/interaction', rateLimit(deps, 'interaction', deps.limits.interaction));
  router.use('/broker/callback', rateLimit(deps, 'callback', deps.limits.callback));
  return router;
}

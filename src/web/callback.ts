// The provider callback: found by the broker's own state (the interaction cookie does not travel on
// cross-site POSTs), verified by the broker, and handed back through /interaction/<uid>/complete. Whatever
// the provider (or someone posing as it) sends, the answer is a 4xx page with an audit record, and the
// service hears back whenever the login is known.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { BrokerError, DEFAULT_FIELD_LIMIT, type Broker } from '../broker/broker.ts';
import type { Identity } from '../identity/identity.ts';
import type { Locale } from '../broker/adapter.ts';
import { pickLocale, type MessageKey } from './i18n.ts';
import { errorPage } from './views.ts';

export interface CallbackDeps {
  broker: Broker;
  store: Store;
  audit: AuditLog;
  logger: Logger;
  resultTtlSeconds: number;
}

export type LoginResult =
  | { ok: true; identity: Identity; correlationId: string }
  | { ok: false; error: string; description: string; message: MessageKey };

/** Broker failure -> OAuth error for the relying party and a short message for the user. */
export const OAUTH_ERRORS: Record<string, { error: string; description: string; message: MessageKey }> = {
  user_cancel: { error: 'user_cancel', description: 'the user cancelled the authentication', message: 'error_generic' },
  access_denied: {
    error: 'access_denied',
    description: 'the provider refused the authentication',
    message: 'error_access_denied',
  },
  temporarily_unavailable: {
    error: 'temporarily_unavailable',
    description: 'the provider is temporarily unavailable',
    message: 'error_provider_unavailable',
  },
  invalid_response: {
    error: 'access_denied',
    description: 'the provider answer could not be verified',
    message: 'error_invalid_response',
  },
  loa_too_low: {
    error: 'unmet_authentication_requirements',
    description: 'the authentication does not meet the requested level of assurance',
    message: 'error_loa_too_low',
  },
  audit_unavailable: {
    error: 'temporarily_unavailable',
    description: 'the login service is temporarily unavailable',
    message: 'error_unavailable',
  },
};

const MAX_FIELDS = 50;

/** Form fields or query parameters as plain strings; anything else (arrays, objects) is dropped. Lengths
 * are the broker's business: it refuses a field beyond its protocol's limit with an audit record. */
function stringParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function callbackRoutes(d: CallbackDeps): Router {
  const router = express.Router();
  const nonce = (res: Response) => res.locals.cspNonce as string;
  // Room for the longest field any configured provider may send (a SAML response), and beyond: a body
  // that is parsed lets the broker find the login behind an oversized field, so the service hears back.
  let longest = DEFAULT_FIELD_LIMIT;
  for (const id of d.broker.adapterIds())
    for (const limit of Object.values(d.broker.adapter(id)?.callbackFieldLimits ?? {}))
      longest = Math.max(longest, limit);
  const bodyLimit = Math.max(512 * 1024, longest + 64 * 1024);
  const parse = express.urlencoded({ extended: false, limit: bodyLimit, parameterLimit: MAX_FIELDS });

  // A body beyond every limit never reaches the broker: refused here, audited, 400 rather than a bare 413.
  const form = (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      if (!err) return next();
      const e = err as { type?: string; status?: number };
      if (e.type !== 'entity.too.large' && e.type !== 'parameters.too.many') return next(err);
      const providerId = String(req.params.provider).slice(0, 40);
      const reason =
        e.type === 'entity.too.large'
          ? `callback body larger than ${bodyLimit} bytes`
          : `callback with more than ${MAX_FIELDS} fields`;
      d.logger.warn('provider callback refused', { providerId, reason });
      const locale = pickLocale(undefined, req.get('accept-language'));
      d.audit
        .record({
          type: 'provider_response_error',
          providerId: d.broker.adapter(providerId) ? providerId : undefined,
          detail: { reason },
        })
        .then(
          () =>
            res
              .status(400)
              .type('html')
              .send(errorPage({ locale, message: 'error_too_large', nonce: nonce(res) })),
          next,
        );
    });
  };

  const callback = async (req: Request, res: Response) => {
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const params = stringParams(method === 'POST' ? req.body : req.query);
    const providerId = String(req.params.provider);
    let result: LoginResult;
    let uid: string;
    let locale: Locale = pickLocale(undefined, req.get('accept-language'));
    try {
      const { login, identity } = await d.broker.complete(providerId, params, method);
      uid = login.uid;
      locale = login.locale;
      result = { ok: true, identity, correlationId: login.correlationId };
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (!err.login) {
        // a replayed or superseded answer: the login cannot go on, but the user gets the way back
        const message: MessageKey =
          err.code === 'unknown_provider'
            ? 'error_provider'
            : err.code === 'oversized'
              ? 'error_too_large'
              : err.spent
                ? 'error_interrupted'
                : 'error_state';
        const end = err.spent ? { uid: err.spent.uid, reason: 'interrupted' as const } : undefined;
        res
          .status(err.code === 'unknown_provider' ? 404 : 400)
          .type('html')
          .send(errorPage({ locale, message, nonce: nonce(res), end }));
        return;
      }
      uid = err.login.uid;
      locale = err.login.locale;
      const mapped = OAUTH_ERRORS[err.code] ?? OAUTH_ERRORS.invalid_response!;
      result = { ok: false, ...mapped };
    }
    await d.store.set(`result:${uid}`, JSON.stringify(result), d.resultTtlSeconds);
    const complete = `/interaction/${uid}/complete`;
    // A cancel goes straight back to the service; any other failure first tells the user what happened.
    if (result.ok || result.error === 'user_cancel') {
      res.redirect(303, complete);
      return;
    }
    res
      .status(400)
      .type('html')
      .send(errorPage({ locale, message: result.message, nonce: nonce(res), back: complete }));
  };
  router.get('/broker/callback/:provider', callback);
  router.post('/broker/callback/:provider', form, callback);
  return router;
}

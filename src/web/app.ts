// The HTTP surface: Express 5 with helmet in front of node-oidc-provider (mounted last, untouched),
// the broker's interaction routes, provider-owned routes and, in development, the demo agency service.
import { randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { AuditUnavailableError } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { errorPage } from './views.ts';
import { releaseOnceSpent } from '../oidc/code-redemption.ts';
import { guardEngine, isStoreUnavailable, sendStoreOutage } from './store-outage.ts';
import { issuerHost, toOriginForm } from './issuer-host.ts';
import { pickLocale, type MessageKey } from './i18n.ts';
import type { Readiness } from '../ops/readiness.ts';
import { type UiConfig, uiSchema } from '../config/schema.ts';
import { assetRoutes, type Logo } from './assets.ts';

export interface AppParts {
  provider: Provider;
  logger: Logger;
  /** the public base URL: every absolute URL is built from it (src/web/issuer-host.ts) */
  issuer: string;
  /** other public origins served (RFC 8705 mtls_endpoint_aliases) */
  aliases?: readonly string[];
  production: boolean;
  /** Express `trust proxy`: TLS terminators' addresses / CIDR blocks, true (any peer) or false */
  proxy: boolean | readonly string[];
  /** routers mounted before the adapters' own routes and the OIDC engine */
  routers: express.Router[];
  /** origins, besides our own, that the forms of our pages may lead to (CSP form-action) */
  formActionOrigins?(): string[];
  /** readiness (/readyz): store, signing keys, audit log, shutdown; absent: always ready */
  ready?(): Promise<Readiness>;
  /** middleware run first on every request (metrics) */
  observe?: express.RequestHandler | undefined;
  /** the audit log's latest signed checkpoint, served to outside monitors (a witness they keep) */
  auditCheckpoint?(): object | undefined;
  /** hook for adapters' own routes (SP metadata, demo upstreams) */
  mount?(app: Express): void;
  /** the login pages' branding and footer (config `ui`) */
  ui?: UiConfig | undefined;
  /** the providers' logos, served under /assets/providers/ */
  logos?: readonly Logo[] | undefined;
  /** the encoding a provider posts its answer to this request in, if it is such a callback (a retry page
   * posts the answer again as it was signed) */
  answerCharset?(req: Request): string | undefined;
  /** a service's home page (src/oidc/clients.ts): the way back from a login expired on one of our pages */
  serviceHome?(clientId: unknown): string | undefined;
}

/** The gateway's request listener: the target in origin-form (./issuer-host.ts), then the Express app. */
export function createApp(parts: AppParts): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // only the client address depends on it: URLs come from the issuer whatever a proxy forwards
  app.set('trust proxy', Array.isArray(parts.proxy) ? [...parts.proxy] : parts.proxy === true);
  // the engine reads Host and X-Forwarded-*; issuerHost() below rewrites them on every request it serves
  parts.provider.proxy = true;
  guardEngine(parts.provider, parts.logger);
  // inside the outage guard: a token response waits for its code to be marked spent, or becomes a 503
  releaseOnceSpent(parts.provider);
  if (parts.observe) app.use(parts.observe);
  const ui = parts.ui ?? uiSchema.parse({});
  app.use((_req, res, next) => {
    res.locals.cspNonce = randomBytes(16).toString('base64');
    res.locals.ui = ui;
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          scriptSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce}'`],
          // the stylesheet is a file of ours (src/web/assets); a test peer's inline style carries the nonce
          styleSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.cspNonce}'`],
          // logos and icons are served by the gateway itself: the login pages make no third-party request
          imgSrc: ["'self'"],
          // forms post to banks and IdPs (banklink, SAML POST binding), and redirects follow them
          formAction: ["'self'", () => (parts.formActionOrigins?.() ?? []).join(' ')],
        },
      },
      // the relying party's page must be able to navigate here; nothing embeds the gateway
      crossOriginOpenerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use(
    issuerHost({
      issuer: parts.issuer,
      aliases: parts.aliases ?? [],
      production: parts.production,
      logger: parts.logger,
    }),
  );
  // discovery is the same for every request (its URLs come from the issuer, ./issuer-host.ts), so shared
  // caches may keep it briefly (keys rotate through /jwks)
  app.get('/.well-known/openid-configuration', (_req, res, next) => {
    res.set('cache-control', 'public, max-age=300');
    next();
  });
  // liveness: the process answers (restart it when this fails); nothing it depends on is checked
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  // readiness: send logins here only while the store answers, keys are loaded, the audit log can be
  // written (a gateway that cannot write it refuses logins) and no shutdown has begun
  app.get('/readyz', async (_req, res) => {
    const { ready, checks } = (await parts.ready?.()) ?? { ready: true, checks: {} };
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/audit/checkpoint', (_req, res) => {
    const cp = parts.auditCheckpoint?.();
    res.set('Cache-Control', 'no-store');
    if (cp) res.json(cp);
    else res.status(404).json({ error: 'no signed audit checkpoint yet' });
  });
  app.use(assetRoutes(parts.logos ?? []));
  // the gateway's routers first: the rate limits among them count the adapters' own pages too
  for (const router of parts.routers) app.use(router);
  parts.mount?.(app);
  app.use(parts.provider.callback());
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (isStoreUnavailable(err)) return sendStoreOutage(req, res, parts.logger, err, parts.answerCharset?.(req));
    // a form of ours (the provider choice) carries the language the user chose on the page
    const locale = pickLocale(req.query?.ui_locales ?? req.body?.ui_locales, req.get('accept-language'));
    const e = err as { status?: number; type?: string; message?: string; name?: string };
    let status = 500;
    let message: MessageKey = 'error_unavailable';
    let home: string | undefined;
    if (err instanceof AuditUnavailableError) {
      // fail closed: no login proceeds without its audit trail
      status = 503;
      message = 'error_unavailable';
    } else if (
      err instanceof oidcErrors.SessionNotFound ||
      err instanceof oidcErrors.InvalidRequest ||
      (err instanceof oidcErrors.OIDCProviderError && (err.status ?? 500) < 500)
    ) {
      status = 400;
      // the engine finds a login page's interaction by its cookie: none came (cookies blocked, or the
      // cookie expired with the login), or the one that came names a login no longer kept
      message = /cookie not found/.test(String((err as { error_description?: unknown }).error_description))
        ? 'error_session_cookie'
        : 'error_session';
      // our pages' forms and links name their service (src/web/views.ts)
      home = parts.serviceHome?.(req.body?.client_id ?? req.query?.client_id);
    } else if (e.type === 'entity.too.large') {
      status = 413;
      message = 'error_too_large';
    } else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      message = 'error_generic';
    }
    if (status >= 500)
      parts.logger.error('request failed', { path: req.path, method: req.method, error: e.name, message: e.message });
    else
      parts.logger.warn('request refused', {
        path: req.path,
        method: req.method,
        status,
        error: e.name,
        message: e.message,
      });
    if (res.headersSent) return;
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .type('html')
      .send(errorPage({ locale, message, nonce: (res.locals.cspNonce as string) ?? '', site: ui, home }));
  });
  return (req, res) => {
    toOriginForm(req);
    app(req, res);
  };
}

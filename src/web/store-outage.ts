// The one place a store outage (src/store/store.ts StoreUnavailableError: Redis away, failing over, a write
// its replicas did not acknowledge) becomes an answer. The user gets a short page in their language, HTTP
// 503 with Retry-After, and a way to try again: the same page (GET), the login's page (its forms), or the
// same form posted again (a provider's answer, which is still single use and verified once). A relying
// party at the token, userinfo or other JSON endpoints gets an OAuth error, `temporarily_unavailable` with
// 503 and Retry-After (RFC 6749 4.1.2.1's code; RFC 9110 15.6.4: try again later), never a crash. The
// engine's routes answer an audit log that cannot record (its volume full, a write failed: src/audit) the
// same way: the identity's release could not be recorded, so the tokens are withheld, and a later try may
// pass once the log is back.
import express, { type Request, type Response } from 'express';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { UiLocale } from '../login/locale.ts';
import type { UiConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { AuditUnavailableError } from '../audit/events.ts';
import { isStoreUnavailable } from '../store/store.ts';
import type { PostedForm } from '../oidc/interop.ts';
import { html, page } from './html.ts';
import { pickLocale, t } from './i18n.ts';
import { siteOf } from './outcome.ts';
import { keepFormBytes, postedForm } from './form-charset.ts';
import { isEngineOutage } from '../login/engine-events.ts';

export { isStoreUnavailable };

/** Seconds after which trying again is worth it: a Sentinel failover takes a few. */
export const RETRY_AFTER_SECONDS = 5;

export const OUTAGE_OAUTH_ERROR = {
  error: 'temporarily_unavailable',
  error_description: 'the login service is briefly unavailable, try again',
} as const;

type Retry = { method: 'GET'; url: string } | { method: 'POST'; url: string; fields: Record<string, string> };

/** How to try again from where the request failed, or undefined when only the browser's back button can. */
function retryOf(method: string, path: string, url: string, body: unknown): Retry | undefined {
  if (method === 'GET' || method === 'HEAD') return { method: 'GET', url };
  const interaction = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/|$)/.exec(path);
  if (interaction) return { method: 'GET', url: `/interaction/${interaction[1]}` };
  if (!body || typeof body !== 'object') return undefined;
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') fields[k] = v;
  return Object.keys(fields).length ? { method: 'POST', url, fields } : undefined;
}

export function retryPage(locale: UiLocale, retry: Retry | undefined, nonce: string, site?: UiConfig): string {
  const label = t(locale, 'try_again');
  const action =
    retry?.method === 'GET'
      ? html`<p><a class="button primary" href="${retry.url}">${label}</a></p>`
      : retry
        ? html`<form method="post" action="${retry.url}">${Object.entries(retry.fields).map(
            ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`,
          )}<button class="primary" type="submit">${label}</button></form>`
        : '';
  const title = t(locale, 'error_store_unavailable_title');
  return page(title, html`<h1>${title}</h1><p class="error">${t(locale, 'error_store_unavailable')}</p>${action}`, {
    lang: locale,
    nonce,
    site,
  });
}

/** A POST whose body no route parsed yet (the abuse limit runs first): read it, so it can be posted again;
 * its bytes are kept, so that a provider's answer posted in its own encoding is read as it was signed. */
const formBody = express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 50, verify: keepFormBytes });

/** The form to post again: read in `charset` when it came in that encoding (src/web/form-charset.ts). The retry
 * page is UTF-8, so the browser posts it again as UTF-8, which the callback reads as such. */
async function parsedBody(req: Request, res: Response, charset: string | undefined): Promise<unknown> {
  if (req.method !== 'POST') return req.body;
  if (req.body === undefined && !req.readableEnded) {
    const read = await new Promise<boolean>((resolve) => formBody(req, res, (err?: unknown) => resolve(!err)));
    if (!read) return undefined;
  }
  return postedForm(req, charset);
}

/** Express: answer a request that failed on a store outage (the app's error handler calls this). `charset`:
 * the encoding a provider posts its answers in, when the request is one (LoginFlow.answerCharset). */
export async function sendStoreOutage(
  req: Request,
  res: Response,
  logger: Logger,
  err: unknown,
  charset?: string,
): Promise<void> {
  logger.warn('store unavailable: retry page', {
    path: req.path,
    method: req.method,
    error: (err as Error).message,
  });
  if (res.headersSent) return;
  const locale = pickLocale(req.query?.ui_locales, req.get('accept-language'));
  const retry = retryOf(req.method, req.path, req.originalUrl, await parsedBody(req, res, charset));
  res
    .status(503)
    .set('Retry-After', String(RETRY_AFTER_SECONDS))
    .set('Cache-Control', 'no-store')
    .type('html')
    .send(retryPage(locale, retry, (res.locals.cspNonce as string) ?? '', siteOf(res)));
}

/** The engine's routes a browser navigates to: their outage answer is the retry page, the others' is JSON. */
const BROWSER_ROUTES = new Set([
  'authorization',
  'resume',
  'end_session',
  'end_session_confirm',
  'end_session_success',
]);

/**
 * node-oidc-provider answers its own errors (a store failure is a `server_error`, 500): mark the request on
 * that event and, around every engine route, turn the answer into the outage answer. Some of its store writes
 * run outside its error handlers, and their failures reach Koa, which would answer a bare 500 "Internal
 * Server Error": the session it persists again after a route's own save failed (ensureSessionSave in
 * lib/helpers/initialize_app.js, around every GET and POST route, e.g. the resume at /auth/:uid while the
 * store stays away). A thrown store outage, or any error thrown after one was met, gets the outage answer
 * as well. The engine is untouched.
 */
export function guardEngine(engine: Provider, logger: Logger): void {
  engine.on('server_error', (ctx, err) => {
    if (isEngineOutage(err)) ctx.state.storeOutage = err;
  });
  engine.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    try {
      await next();
    } catch (err) {
      if (!isEngineOutage(err) && !ctx.state.storeOutage) throw err;
      ctx.state.storeOutage ??= err;
      // whatever the engine had answered before it threw is replaced
      ctx.body = undefined;
    }
    const err = ctx.state.storeOutage;
    if (!err) return;
    const answered = { path: ctx.path, method: ctx.method, error: (err as Error).message };
    // the audit log's own error line says why once; each login it turns away is the operator's to see
    if (err instanceof AuditUnavailableError) logger.error('audit log unavailable: engine answered 503', answered);
    else logger.warn('store unavailable: engine answered 503', answered);
    // a browser's route (whatever was set before the failure, JSON included, which a browser shows as
    // text), or an answer that was HTML already (an error page, a redirect's body)
    const htmlAnswer =
      BROWSER_ROUTES.has(String(ctx.oidc?.route)) || (typeof ctx.body === 'string' && ctx.type.includes('html'));
    ctx.status = 503;
    // a redirect set before the failure (the code's, when the session save after it failed) goes with it
    ctx.remove('Location');
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.set('Cache-Control', 'no-store');
    if (!htmlAnswer) {
      ctx.body = { ...OUTAGE_OAUTH_ERROR };
      return;
    }
    // the engine parsed the parameters (query or form) before it failed, when it got that far
    const oidc = ctx.oidc as { params?: Record<string, unknown>; body?: unknown } | undefined;
    const locale = pickLocale(oidc?.params?.ui_locales ?? ctx.query.ui_locales, ctx.get('accept-language'));
    // a form the engine served as a GET is posted again, its parameters kept out of the URL
    const posted = (ctx.state as PostedForm).postedForm;
    const retry: Retry | undefined = posted
      ? { method: 'POST', url: ctx.path, fields: posted }
      : retryOf(ctx.method, ctx.path, ctx.url, oidc?.body);
    const res = ctx.res as { locals?: Record<string, unknown> };
    const nonce = res.locals?.cspNonce;
    ctx.type = 'html';
    ctx.body = retryPage(locale, retry, typeof nonce === 'string' ? nonce : '', siteOf(res));
  });
}

// The pages node-oidc-provider shows itself (src/oidc/engine.ts): errors it cannot send back to a
// service (an unregistered redirect_uri, an unknown client, a lost interaction) and RP-initiated logout.
import { errors } from 'oidc-provider';
import type { Logger } from '../logger.ts';
import type { EnginePages } from '../oidc/engine.ts';
import { html, page, Html } from './html.ts';
import { pickLocale, t, type MessageKey } from './i18n.ts';
import { siteOf } from './outcome.ts';
import { errorPage, redirectFormPage } from './views.ts';

/** What the user is told for an error the engine cannot redirect. */
function errorMessage(out: { error: string; error_description?: string | undefined }, error: unknown): MessageKey {
  const description = String(out.error_description);
  if (out.error === 'invalid_redirect_uri' || /redirect_uri/.test(description)) return 'error_redirect_uri';
  if (out.error === 'invalid_client') return 'error_client';
  // the resume (/auth/<uid>) finds its login by a cookie: none came (spent by the code already sent, expired
  // with the login, or cookies blocked), as the login pages say when theirs is missing (src/web/app.ts)
  if (error instanceof errors.SessionNotFound)
    return description === 'authorization request has expired' ? 'error_session_cookie' : 'error_session';
  if (out.error === 'invalid_request' && /session|interaction/i.test(description)) return 'error_session';
  return 'error_generic';
}

/** The language a logout was asked in, for its success page (a locale code only: pickLocale checks it). */
const LOGOUT_LOCALE_COOKIE = 'vpm-logout-lang';
const LOGOUT_LOCALE_MS = 10 * 60 * 1000;

/** The engine runs inside Express (src/web/app.ts): the response still carries what Express put on it. */
type EngineContext = { res: unknown };
const site = (ctx: EngineContext) => siteOf(ctx.res as { locals?: Record<string, unknown> });

/** The service an engine page is about: the client the engine loaded, else the one the request names. */
const clientOf = (ctx: { oidc?: { client?: { clientId: string }; params?: Record<string, unknown> } }) =>
  ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id;

/** `serviceHome`: a registered service's home page (src/oidc/clients.ts), the way back from a page the
 * engine cannot send back to the service. */
export function enginePages(logger: Logger, serviceHome: (clientId: unknown) => string | undefined): EnginePages {
  return {
    renderError: async (ctx, out, error) => {
      logger.warn('oidc error page', {
        error: out.error,
        description: out.error_description,
        status: (error as { status?: number }).status,
        cause: (error as { cause?: Error }).cause?.message,
      });
      const locale = pickLocale(ctx.oidc?.params?.ui_locales, ctx.get('accept-language'));
      const logout = ctx.oidc?.route === 'end_session' || ctx.oidc?.route === 'end_session_confirm';
      ctx.type = 'html';
      ctx.body = errorPage({
        locale,
        message: errorMessage(out, error),
        title: logout ? 'logout_failed_title' : undefined,
        home: serviceHome(clientOf(ctx)),
        nonce: '',
        site: site(ctx),
      });
    },
    statusPage: async (ctx, status) => {
      const locale = pickLocale(undefined, ctx.get('accept-language'));
      ctx.status = status;
      ctx.type = 'html';
      const message = status === 413 ? 'error_too_large' : status === 415 ? 'error_form_only' : 'error_not_found';
      const title = status === 404 ? 'not_found_title' : undefined;
      ctx.body = errorPage({ locale, message, title, nonce: '', site: site(ctx) });
    },
    formPostPage: async (ctx, action, fields) => {
      const locale = pickLocale(ctx.oidc?.params?.ui_locales, ctx.get('accept-language'));
      // the script that posts the form carries the nonce the response's CSP names (src/web/app.ts)
      const nonce = String((ctx.res as { locals?: { cspNonce?: unknown } }).locals?.cspNonce ?? '');
      ctx.type = 'html';
      ctx.body = redirectFormPage({ locale, url: action, fields, nonce, site: site(ctx)! });
    },
    logoutSource: async (ctx, form) => {
      const locale = pickLocale(ctx.oidc.params?.ui_locales, ctx.get('accept-language'));
      // the confirmation posts the engine's own form and lands on its success page without the logout's
      // parameters: the language asked for rides along in a cookie of the logout's own path
      ctx.cookies.set(LOGOUT_LOCALE_COOKIE, locale, {
        path: '/session/end',
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.secure,
        signed: false,
        maxAge: LOGOUT_LOCALE_MS,
      });
      const title = t(locale, 'logout_title');
      const client = ctx.oidc.client;
      const service = client
        ? html`<p class="service">${t(locale, 'logout_service_label')} <strong>${client.clientName ?? client.clientId}</strong></p>`
        : '';
      // "No" posts the same form without `logout`: the engine then ends only the asking service's part of
      // the session and still returns to the service (RP-Initiated Logout 1.0 section 3, its logout URI)
      ctx.type = 'html';
      ctx.body = page(
        title,
        html`${service}<h1>${title}</h1><p>${t(locale, 'logout_question')}</p>${new Html(form)}<div class="actions"><button class="primary" form="op.logoutForm" name="logout" value="yes" type="submit">${t(locale, 'logout_yes')}</button>${client ? html`<button class="secondary" form="op.logoutForm" type="submit">${t(locale, 'logout_no')}</button>` : ''}</div>`,
        { lang: locale, site: site(ctx) },
      );
    },
    postLogoutSuccessSource: async (ctx) => {
      const locale = pickLocale(ctx.cookies.get(LOGOUT_LOCALE_COOKIE, { signed: false }), ctx.get('accept-language'));
      ctx.type = 'html';
      ctx.body = page(t(locale, 'logout_title'), html`<h1>${t(locale, 'logout_done')}</h1>`, {
        lang: locale,
        site: site(ctx),
      });
    },
  };
}

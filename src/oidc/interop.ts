// What relying-party software needs from the engine beyond its defaults, added around it (never inside
// it): Koa middleware run by provider.use before the engine's router, and one wrapper on its Client model.
//   - the authorization and logout endpoints by POST (OpenID Connect Core 3.1.2.1, RP-Initiated Logout 1.0 2)
//   - RFC 9207 `iss` left out of authorization error responses for clients configured so
//     (`authorization_error_iss: false`, for mod_auth_openidc 2.4.12)
//   - `invalid_client` when a request carries no client authentication at all (RFC 6749 5.2), and
//     `Pragma: no-cache` on token responses (RFC 6749 5.1)
//   - each client's registered secret method is the only one accepted (client_secret_basic or _post)
//   - a page, not a bare status, for a path the engine does not serve and for a body too large
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';

type Middleware = (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>;

/** The form of a POST the engine serves as a GET (formPostAsGet), kept on Koa's ctx.state. */
export interface PostedForm {
  postedForm?: Record<string, string> | undefined;
}

/** About what a GET can carry in its request line (Node's 16 KiB header limit): every parameter is
 * bounded far below it (./parameter-checks.ts). */
export const MAX_AUTHORIZATION_BODY = 16 * 1024;

/**
 * OpenID Connect Core 3.1.2.1 and RP-Initiated Logout 1.0 section 2: the authorization and logout endpoints
 * MUST accept POST with the parameters form-serialized (a logout's id_token_hint then stays out of URLs and
 * access logs). The engine offers POST only together with `SameSite=None` session cookies (so that a
 * cross-site POST can find an existing session for single sign-on); the gateway has no single sign-on
 * (every request authenticates afresh), so a POST is served exactly as the GET with the same parameters. A
 * cross-site logout POST arrives without the session cookie: the engine ends no session of this browser
 * then, and still returns to the service's registered post_logout_redirect_uri.
 */
export function formPostAsGet(
  path: string,
  refused: (ctx: KoaContextWithOIDC, status: 413 | 415) => Promise<void>,
): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== path) return next();
    // a body in another form (JSON, multipart) is no request these endpoints know: a page saying so, not
    // the engine's 404 for a POST it does not route
    if (ctx.get('content-type') && !ctx.is('application/x-www-form-urlencoded')) {
      ctx.status = 415;
      await refused(ctx, 415);
      return;
    }
    if (!ctx.is('application/x-www-form-urlencoded')) return next();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_AUTHORIZATION_BODY) {
        ctx.status = 413;
        await refused(ctx, 413);
        return;
      }
      chunks.push(chunk);
    }
    ctx.method = 'GET';
    ctx.querystring = Buffer.concat(chunks).toString('utf8');
    // what was posted, for a page that offers to post it again (src/web/store-outage.ts): an
    // id_token_hint or login_hint must not move into a URL
    (ctx.state as PostedForm).postedForm = Object.fromEntries(new URLSearchParams(ctx.querystring));
    return next();
  };
}

/** A path the engine does not serve answers 404 with no body: the user gets a page in their language. */
export function pageForBareStatus(pages: {
  statusPage(ctx: KoaContextWithOIDC, status: 404): Promise<void>;
}): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status === 404 && ctx.body == null) await pages.statusPage(ctx, 404);
  };
}

/** Remove `iss` from an error in a query or fragment redirect; undefined when there is nothing to change. */
function withoutIss(location: string): string | undefined {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  const query = url.searchParams;
  if (query.has('error') && query.has('iss')) {
    query.delete('iss');
    return url.toString();
  }
  if (url.hash) {
    const fragment = new URLSearchParams(url.hash.slice(1));
    if (fragment.has('error') && fragment.has('iss')) {
      fragment.delete('iss');
      url.hash = fragment.toString();
      return url.toString();
    }
  }
  return undefined;
}

/** The engine's form_post page holds one hidden input per parameter. */
const FORM_POST_ISS = /[ \t]*<input type="hidden" name="iss" value="[^"]*"\/>\n?/;
const FORM_POST_ERROR = /<input type="hidden" name="error" value=/;

/**
 * RFC 9207 `iss` stays in every authorization response, except in the error responses of the clients
 * listed (`authorization_error_iss: false`): mod_auth_openidc up to 2.4.12 (Debian 12) looks for `iss`
 * before `error` at its redirect URI and takes an error carrying `iss` for a third-party-initiated login,
 * so the user meets a dead end or a loop instead of the error.
 */
export function errorIssCompat(clientsWithoutIss: ReadonlySet<string>): Middleware {
  return async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (route !== 'authorization' && route !== 'resume') return;
    const clientId = ctx.oidc.client?.clientId;
    if (!clientId || !clientsWithoutIss.has(clientId)) return;
    const location = ctx.response.get('location');
    if (location) {
      const changed = withoutIss(location);
      if (changed) {
        const status = ctx.status;
        ctx.redirect(changed);
        ctx.status = status;
      }
    } else if (typeof ctx.body === 'string' && FORM_POST_ERROR.test(ctx.body)) {
      ctx.body = ctx.body.replace(FORM_POST_ISS, '');
    }
  };
}

/** The engine's description when a request names no client at all. */
const NO_CLIENT_AUTH = 'no client authentication mechanism provided';
const CLIENT_AUTHENTICATED_ROUTES = new Set(['token', 'revocation', 'pushed_authorization_request']);

/**
 * RFC 6749 5.2: a request without any client authentication is `invalid_client` (the engine says
 * invalid_request), answered 401 with the Basic challenge every secret client may use. RFC 6749 5.1:
 * token responses carry `Pragma: no-cache` beside the engine's `Cache-Control: no-store`.
 */
export function tokenEndpointConformance(issuer: string): Middleware {
  return async (ctx, next) => {
    await next();
    const route = ctx.oidc?.route;
    if (!route || !CLIENT_AUTHENTICATED_ROUTES.has(route)) return;
    if (route === 'token') ctx.set('Pragma', 'no-cache');
    const body = ctx.body as { error?: unknown; error_description?: unknown } | undefined;
    if (ctx.status === 400 && body?.error === 'invalid_request' && body.error_description === NO_CLIENT_AUTH) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client', error_description: 'client authentication is required' };
      ctx.set('WWW-Authenticate', `Basic realm="${issuer}"`);
    }
  };
}

/**
 * The engine accepts a client's secret in either place (Authorization header or form body) whichever of
 * the two secret methods the client registered. Each client's registered method is the only one: the
 * secret check, which runs only for those two methods, first refuses a secret sent the other way.
 */
export function registeredSecretMethodOnly(provider: Provider): void {
  const prototype = provider.Client.prototype;
  const compare = prototype.compareClientSecret;
  prototype.compareClientSecret = function (this: typeof prototype, actual: string) {
    const ctx = Provider.ctx;
    if (ctx) {
      const presented = ctx.oidc.params?.client_secret !== undefined ? 'client_secret_post' : 'client_secret_basic';
      const registered = this.metadata().token_endpoint_auth_method;
      if (presented !== registered)
        throw new errors.InvalidClientAuth(`this client authenticates with ${registered}, not ${presented}`);
    }
    return compare.call(this, actual);
  };
}

// Rewrites of the OP's own answers, so tests hand the gateway hostile tokens, rotated keys, token endpoint
// errors or a lax eID's reused session, all still travelling the real protocol.
import type { Readable } from 'node:stream';
import { decodeJwt, type JWK, type JWTPayload } from 'jose';
import type Provider from 'oidc-provider';

/** Rewrites of the OP's own answers; each gets the genuine one and returns what the gateway receives. */
export interface Tamper {
  /** the token endpoint's `id_token` (given the genuine ID token's claims and the OP's private signing key) */
  idToken?: (claims: JWTPayload, opKey: JWK) => Promise<string> | string;
  /** the userinfo JSON */
  userinfo?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** the published JWKS (key rotation), or a stream of its text (sent chunked, without Content-Length) */
  jwks?: () => { keys: JWK[] } | Readable;
  /** replace the whole token endpoint answer with an error status */
  tokenError?: { status: number; body: Record<string, unknown> };
  /** ignore prompt=login and max_age=0 (as a lax eID does): answer from an existing single sign-on session
   * up to a day old without asking the person, still reporting that session's auth_time */
  ignoreFreshness?: boolean;
}

/** Wrap the provider's endpoints with `tamper`, read on every request so tests change it while the OP runs. */
export function applyTamper(provider: Provider, tamper: Tamper, signingKey: JWK): void {
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST' && tamper.tokenError) {
      ctx.status = tamper.tokenError.status;
      ctx.body = tamper.tokenError.body;
      return;
    }
    if (ctx.path === '/jwks' && tamper.jwks) {
      ctx.type = 'application/jwk-set+json';
      ctx.body = tamper.jwks();
      return;
    }
    if (ctx.path === '/auth' && ctx.method === 'GET' && tamper.ignoreFreshness) {
      // the session is reused as long as max_age allows, and max_age keeps auth_time in the ID token
      const query = new URLSearchParams(ctx.querystring);
      query.delete('prompt');
      if (query.has('max_age')) query.set('max_age', '86400');
      ctx.querystring = query.toString();
    }
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && tamper.idToken) {
      const body = ctx.body as { id_token?: string };
      if (body.id_token) ctx.body = { ...body, id_token: await tamper.idToken(decodeJwt(body.id_token), signingKey) };
    }
    if (ctx.path === '/me' && ctx.status === 200 && tamper.userinfo && typeof ctx.body === 'object') {
      ctx.body = tamper.userinfo(ctx.body as Record<string, unknown>);
    }
  });
}

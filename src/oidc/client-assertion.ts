// Bounds on a client assertion (private_key_jwt) beyond what node-oidc-provider checks itself (signature,
// iss, an exp not yet passed, nbf, a jti used once). The engine runs them as its
// assertJwtClientAuthClaimsAndHeader, once the signature is verified and before it records the jti, at
// every endpoint that authenticates clients: token, pushed authorization requests, revocation.
// - Lifetime: RFC 7523 3 (4) lets a server refuse an exp unreasonably far ahead, and OpenID Connect Core 9
//   makes an assertion single use, so its jti is kept until its exp: an assertion living for years is a
//   stolen credential for years and a replay marker stored as long. Clients sign one per request (openid-client
//   for 60 s), so five minutes is ample; a longer one is refused.
// - iat ahead of our clock by more than the tolerance: the FAPI 2.0 Security Profile has servers accept
//   up to 10 s ahead and refuse 60 s or more; the engine checks it only for a JWT without exp.
// - Audience: every value must name this server. The engine accepts an array that holds one of its own
//   values among others, so an assertion a client made for another server that listed ours too would
//   authenticate here (the audience injection draft-ietf-oauth-rfc7523bis closes). Its issuer identifier
//   (what that draft requires) or token endpoint (RFC 7523 3 (3)) are accepted, and at PAR its own
//   endpoint, which RFC 9126 2 requires servers to accept.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../logger.ts';

/** The engine's clock tolerance (its default, set explicitly so that these bounds use the same). */
export const CLOCK_TOLERANCE_SECONDS = 15;

/** The longest an assertion may still be valid when it arrives, beyond the clock tolerance. */
export const ASSERTION_MAX_SECONDS = 300;

type Hook = NonNullable<Configuration['assertJwtClientAuthClaimsAndHeader']>;

/** The audiences an assertion may name at the endpoint of `ctx`. */
function ownAudiences(ctx: KoaContextWithOIDC): Set<string> {
  const own = new Set([ctx.oidc.issuer, ctx.oidc.urlFor('token')]);
  if (ctx.oidc.route === 'pushed_authorization_request') own.add(ctx.oidc.urlFor(ctx.oidc.route));
  return own;
}

/** Why the verified assertion's claims are refused, or undefined. */
function outOfBounds(ctx: KoaContextWithOIDC, claims: Parameters<Hook>[1]): string | undefined {
  const now = Math.floor(Date.now() / 1000);
  const { exp, iat, aud } = claims;
  if (typeof exp !== 'number' || exp > now + ASSERTION_MAX_SECONDS + CLOCK_TOLERANCE_SECONDS)
    return `exp is more than ${ASSERTION_MAX_SECONDS} s ahead`;
  if (iat !== undefined && (typeof iat !== 'number' || iat > now + CLOCK_TOLERANCE_SECONDS))
    return 'iat is in the future';
  const own = ownAudiences(ctx);
  if (!(Array.isArray(aud) ? aud : [aud]).every((a) => typeof a === 'string' && own.has(a)))
    return 'aud names another party than this server';
  return undefined;
}

/** The engine's hook: refuses an assertion out of bounds as invalid_client, with a warning. Only the client's
 * own key reaches it (the signature is verified first), so the warnings cannot be flooded by others. */
export function clientAssertionBounds(logger: Logger): Hook {
  return (ctx, claims) => {
    const problem = outOfBounds(ctx, claims);
    if (!problem) return;
    logger.warn('client assertion refused', { clientId: ctx.oidc.client?.clientId, endpoint: ctx.oidc.route, problem });
    throw new errors.InvalidClientAuth(problem);
  };
}

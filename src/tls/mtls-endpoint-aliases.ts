// RFC 8705 section 5 endpoint aliases: where the token, userinfo and revocation endpoints are served a
// second time, on a listener that requests client certificates.
import { serverSchema } from './server-config.ts';

/** The oidc-provider routes (its defaults) that RFC 8705 aliases; nothing else is served on the mutual-TLS listener. */
export const MTLS_ALIASED_ROUTES = {
  token_endpoint: '/token',
  userinfo_endpoint: '/me',
  revocation_endpoint: '/token/revocation',
} as const;

/** `mtls_endpoint_aliases` for discovery (RFC 8705 §5), or undefined without `server.mtls`. */
export function mtlsEndpointAliases(
  server: unknown,
  issuer: string,
): Record<keyof typeof MTLS_ALIASED_ROUTES, string> | undefined {
  const settings = serverSchema.parse(server ?? {});
  if (!settings.mtls) return undefined;
  let base: URL;
  if (settings.mtls.url) base = new URL(settings.mtls.url);
  else {
    // the engine's routes sit at the root of the listener, whatever path the issuer has
    base = new URL(new URL(issuer).origin);
    base.protocol = 'https:';
    base.port = String(settings.mtls.port);
  }
  const prefix = base.pathname.replace(/\/$/, '');
  const at = (path: string) => `${base.origin}${prefix}${path}`;
  return {
    token_endpoint: at(MTLS_ALIASED_ROUTES.token_endpoint),
    userinfo_endpoint: at(MTLS_ALIASED_ROUTES.userinfo_endpoint),
    revocation_endpoint: at(MTLS_ALIASED_ROUTES.revocation_endpoint),
  };
}

// Agency services as the engine registers them: the code flow only, openid plus the configured scopes,
// and certificate-bound tokens for services that authenticate with a certificate (RFC 8705 3).
import type { ClientMetadata } from 'oidc-provider';
import type { GatewayConfig } from '../config/load.ts';
import { CERTIFICATE_AUTH_METHODS } from '../tls/mtls-feature.ts';

export function clientMetadata(client: GatewayConfig['clients'][number]): ClientMetadata {
  return {
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
    ...(client.client_uri ? { client_uri: client.client_uri } : {}),
    ...(client.client_secret ? { client_secret: client.client_secret } : {}),
    token_endpoint_auth_method: client.token_endpoint_auth_method,
    // a JSON round trip gives the engine plain objects (its isPlainObject check is strict about prototypes)
    ...(client.jwks ? { jwks: JSON.parse(JSON.stringify(client.jwks)) as ClientMetadata['jwks'] } : {}),
    ...(client.jwks_uri ? { jwks_uri: client.jwks_uri } : {}),
    ...(client.tls_client_auth_subject_dn ? { tls_client_auth_subject_dn: client.tls_client_auth_subject_dn } : {}),
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: client.id_token_signed_response_alg,
    subject_type: client.subject_type,
    scope: ['openid', ...client.scopes].join(' '),
    ...((CERTIFICATE_AUTH_METHODS as readonly string[]).includes(client.token_endpoint_auth_method)
      ? { tls_client_certificate_bound_access_tokens: true }
      : {}),
  };
}

/** Where a service's users go back to when its login can no longer end at the service (the login expired,
 * and with it the redirect URI and state the service's answer needs): its home page (`client_uri`, OpenID
 * Connect Dynamic Client Registration 1.0 section 2), else the origin of its first redirect URI. Anything
 * but a registered client_id has none. */
export function serviceHomes(
  clients: readonly Pick<GatewayConfig['clients'][number], 'client_id' | 'client_uri' | 'redirect_uris'>[],
): (clientId: unknown) => string | undefined {
  const homes = new Map(clients.map((c) => [c.client_id, c.client_uri ?? `${new URL(c.redirect_uris[0]!).origin}/`]));
  return (clientId) => (typeof clientId === 'string' ? homes.get(clientId) : undefined);
}

// Agency services as the engine registers them: the code flow only, openid plus the configured scopes,
// and certificate-bound tokens for services that authenticate with a certificate (RFC 8705 3).
import type { ClientMetadata } from 'oidc-provider';
import type { GatewayConfig } from '../config/load.ts';
import { CERTIFICATE_AUTH_METHODS } from '../tls/mtls-feature.ts';

export function clientMetadata(client: GatewayConfig['clients'][number]): ClientMetadata {
  return {
    client_id: client.client_id,
    ...(client.client_name ? { client_name: client.client_name } : {}),
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

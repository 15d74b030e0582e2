// The test eID's node-oidc-provider configuration, eParaksts-like: the person in the ID token itself,
// PKCE required, PAR, signed request objects, encrypted ID tokens and userinfo, and tls_client_auth when
// served over HTTPS that asks for client certificates.
import type { TLSSocket } from 'node:tls';
import type { JWK } from 'jose';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errorPage } from './pages.ts';
import type { TestOpStorage } from './storage.ts';
import { ACR_VALUES, type TestUser } from './users.ts';

export interface OpSettings {
  /** the path prefix the OP is mounted under ('' when it owns its origin) */
  prefix: string;
  users: Record<string, TestUser>;
  mtls: boolean;
  storage: TestOpStorage;
  /** private signing keys */
  keys: JWK[];
  /** RFC 8705 `mtls_endpoint_aliases` to publish in discovery */
  mtlsEndpointAliases?: Record<string, string>;
}

// node prints the DN one attribute per line, most significant last as issued: compare as sets
const normalizedDn = (dn: string) =>
  dn
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');

export function opConfiguration({
  prefix,
  users,
  mtls,
  storage,
  keys,
  mtlsEndpointAliases,
}: OpSettings): Configuration {
  // Mounted on another OIDC provider's host (the gateway's engine uses the default cookie names at
  // path /), the OP's cookies get their own names and stay under its prefix so neither clobbers the other.
  const cookies = prefix
    ? {
        names: { session: '_test_eid_session', interaction: '_test_eid_interaction', resume: '_test_eid_resume' },
        long: { httpOnly: true, sameSite: 'lax' as const, path: prefix },
        short: { httpOnly: true, sameSite: 'lax' as const, path: prefix },
      }
    : {};
  return {
    adapter: storage,
    jwks: { keys },
    cookies: { keys: ['test-op-cookie-key-0123456789abcdef'], ...cookies },
    acrValues: ACR_VALUES,
    scopes: ['openid', 'profile', 'eid'],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['given_name', 'family_name'],
      eid: ['serial_number'],
      acr: null,
      amr: null,
    },
    // eParaksts-like: the ID token itself carries the person
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ...(mtlsEndpointAliases ? { discovery: { mtls_endpoint_aliases: mtlsEndpointAliases } } : {}),
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(mtls ? ['tls_client_auth' as const] : []),
    ],
    findAccount: (_ctx, id) => {
      const user = users[id];
      if (!user) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...user }) };
    },
    interactions: { url: (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      requestObjects: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      mTLS: {
        enabled: mtls,
        tlsClientAuth: true,
        getCertificate: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).getPeerX509Certificate?.(),
        certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
          if (property !== 'tls_client_auth_subject_dn') return false;
          const subject = (ctx.req.socket as TLSSocket).getPeerX509Certificate?.()?.subject;
          return subject !== undefined && normalizedDn(subject) === normalizedDn(expected);
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      requestObjectSigningAlgValues: ['PS256', 'RS256', 'ES256'],
      clientAuthSigningAlgValues: ['PS256', 'RS256', 'ES256'],
      idTokenEncryptionAlgValues: ['RSA-OAEP-256', 'RSA-OAEP', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'],
      idTokenEncryptionEncValues: ['A256GCM', 'A128GCM', 'A128CBC-HS256'],
      userinfoEncryptionAlgValues: ['RSA-OAEP-256', 'RSA-OAEP', 'ECDH-ES'],
      userinfoEncryptionEncValues: ['A256GCM', 'A128GCM', 'A128CBC-HS256'],
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
      PushedAuthorizationRequest: 60,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  };
}

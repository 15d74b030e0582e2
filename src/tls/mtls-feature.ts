// Agency services authenticating at the token endpoint with certificates (RFC 8705 tls_client_auth /
// self_signed_tls_client_auth, certificate-bound access tokens) through node-oidc-provider's
// `features.mTLS`.
import { certificateSubjectMatches } from './certificate-subject.ts';
import { type CertificateRequest, ClientCertificates } from './client-certificates.ts';
import { mainListenerRequestsCertificate, serverSchema } from './server-config.ts';

/**
 * node-oidc-provider `features.mTLS` for this server configuration, or undefined when no client
 * certificate can reach the gateway (no client CA / certificate request and no forwarding header).
 */
export function mtlsFeature(server: unknown) {
  const settings = serverSchema.parse(server ?? {});
  const native = mainListenerRequestsCertificate(settings) || (settings.tls && settings.mtls?.port !== undefined);
  if (!native && !settings.client_certificate_header) return undefined;
  const certificates = new ClientCertificates(settings);
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: (request: CertificateRequest) => certificates.presented(request)?.cert,
    certificateAuthorized: (request: CertificateRequest) => certificates.presented(request)?.authorized === true,
    certificateSubjectMatches: (request: CertificateRequest, property: string, expected: string) => {
      const cert = certificates.presented(request)?.cert;
      return cert !== undefined && certificateSubjectMatches(cert, property, expected);
    },
  };
}

/** Client authentication methods that need a certificate. */
export const CERTIFICATE_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

// The `server:` block of the configuration file: the gateway's own HTTPS listener, the header in which a
// TLS terminator forwards client certificates, and the RFC 8705 mutual-TLS endpoint aliases.
import { isIP } from 'node:net';
import { z } from 'zod';

/** An IP address or CIDR block (trusted TLS terminators). */
export const ipOrCidr = z.string().refine((v) => {
  const [addr, bits, extra] = v.split('/');
  if (extra !== undefined || !addr || !isIP(addr)) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d{1,3}$/.test(bits) && n <= (isIP(addr) === 4 ? 32 : 128);
}, 'must be an IP address or CIDR block');

export const serverTlsSchema = z.strictObject({
  /** PEM file: the gateway's server certificate (chain) */
  cert: z.string().min(1),
  /** PEM file: its private key */
  key: z.string().min(1),
  /** PEM file: CA(s) that issue agency services' client certificates (tls_client_auth). */
  client_ca: z.string().min(1).optional(),
  /** ask connecting clients for a certificate (default: when client_ca is set). Needed for self_signed_tls_client_auth. */
  request_client_certificate: z.boolean().optional(),
});

export const clientCertificateHeaderSchema = z.strictObject({
  /** header in which the TLS terminator forwards the client certificate it verified (URL-encoded PEM, PEM or base64 DER) */
  name: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name'),
  /** addresses of the terminators allowed to set it; from anyone else the header is ignored */
  trusted_proxies: z.array(ipOrCidr).min(1),
  /** optional header with the terminator's verification result; the certificate counts as CA-verified only when it reads SUCCESS */
  verify_header: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .optional(),
  /** PEM file: root CA(s) of agency services' certificates, plus any intermediates; a forwarded certificate counts as verified (tls_client_auth) only when it chains to one of the roots. Default: server.tls.client_ca */
  client_ca: z.string().min(1).optional(),
});

/**
 * RFC 8705 §5 endpoint aliases: token, userinfo and revocation served a second time where client
 * certificates are requested, so the listener browsers use never asks for one (no certificate prompt
 * on login pages). Either the gateway's own second listener (`port`) or, behind a TLS terminator that
 * requests certificates on another host name, only the published `url`.
 */
export const serverMtlsSchema = z.strictObject({
  /** port of the gateway's own mutual-TLS listener (same certificate and key as server.tls) */
  port: z.number().int().min(1).max(65535).optional(),
  /** public base URL of the aliases (default: the issuer's https origin with `port`) */
  url: z.url({ protocol: /^https$/, error: 'must be an https URL' }).optional(),
});

/** The `server:` block of the configuration file. */
export const serverSchema = z
  .strictObject({
    /** bind address of the listeners (default: loopback with the demo, else every interface) */
    host: z.string().min(1).optional(),
    /** seconds a graceful shutdown waits for requests in flight before cutting connections (default 10) */
    shutdown_timeout: z.number().int().min(0).max(300).optional(),
    /** seconds a client may take to send a whole request, headers and body (default 30; Node's own is 300) */
    request_timeout: z.number().int().min(5).max(300).optional(),
    tls: serverTlsSchema.optional(),
    client_certificate_header: clientCertificateHeaderSchema.optional(),
    mtls: serverMtlsSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.mtls) return;
    if (v.mtls.port === undefined && v.mtls.url === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['mtls'],
        message: "give port (the gateway's own mutual-TLS listener) or url (a terminator's mutual-TLS host name)",
      });
      return;
    }
    if (v.mtls.port !== undefined && !v.tls) {
      ctx.addIssue({
        code: 'custom',
        path: ['mtls', 'port'],
        message: 'a mutual-TLS listener needs server.tls (certificate and key)',
      });
    }
    if (v.mtls.port === undefined && !v.client_certificate_header) {
      ctx.addIssue({
        code: 'custom',
        path: ['mtls', 'url'],
        message:
          "aliases without the gateway's own listener need server.client_certificate_header (the terminator forwards the certificate)",
      });
    }
    if (v.mtls.port !== undefined && v.tls?.request_client_certificate === true) {
      ctx.addIssue({
        code: 'custom',
        path: ['tls', 'request_client_certificate'],
        message: 'with server.mtls the main listener never requests client certificates; remove this setting',
      });
    }
  });
export type ServerConfig = z.infer<typeof serverSchema>;

/** Whether the main listener asks connecting clients for a certificate. */
export function mainListenerRequestsCertificate(settings: ServerConfig): boolean {
  if (!settings.tls || settings.mtls?.port !== undefined) return false;
  return settings.tls.request_client_certificate ?? Boolean(settings.tls.client_ca);
}

// Inbound TLS: the gateway serving HTTPS itself, and agency services authenticating at the token
// endpoint with certificates (RFC 8705 tls_client_auth / self_signed_tls_client_auth, certificate-bound
// access tokens) through node-oidc-provider's `features.mTLS`. The client certificate comes either from
// our own TLS socket or, behind a TLS terminator, from a configured header, and then only when the
// connection comes from a trusted proxy address (anyone else could simply write that header).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { STRONG_CIPHERS, TLS_MIN_VERSION } from './policy.ts';
import { ClientCaStore } from './chain.ts';

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

/** The oidc-provider routes (its defaults) that RFC 8705 aliases; nothing else is served on the mutual-TLS listener. */
export const MTLS_ALIASED_ROUTES = {
  token_endpoint: '/token',
  userinfo_endpoint: '/me',
  revocation_endpoint: '/token/revocation',
} as const;

/** Whether the main listener asks connecting clients for a certificate. */
function mainRequestsCertificate(settings: ServerConfig): boolean {
  if (!settings.tls || settings.mtls?.port !== undefined) return false;
  return settings.tls.request_client_certificate ?? Boolean(settings.tls.client_ca);
}

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

/**
 * node:https options of the gateway's own listener. `requestCert` overrides whether client
 * certificates are asked for (default: `request_client_certificate`, else whether `client_ca` is set).
 */
export function serverTlsOptions(
  tls: z.infer<typeof serverTlsSchema>,
  requestCert = tls.request_client_certificate ?? Boolean(tls.client_ca),
): https.ServerOptions {
  const read = (field: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(
        `server.tls.${field}: cannot read file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  };
  return {
    cert: read('cert', tls.cert),
    key: read('key', tls.key),
    ...(tls.client_ca ? { ca: read('client_ca', tls.client_ca) } : {}),
    minVersion: TLS_MIN_VERSION,
    ciphers: STRONG_CIPHERS,
    honorCipherOrder: true,
    requestCert,
    // Browsers and secret-based clients connect without a certificate; the token endpoint decides
    // per client (client auth method) whether a certificate is needed and whether it must be CA-verified.
    rejectUnauthorized: false,
  };
}

function bind(s: http.Server, port: number, host?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts the gateway's listener: HTTPS when `server.tls` is configured, else plain HTTP. With
 * `server.mtls.port` it never requests client certificates (they go to the mutual-TLS listener).
 */
export async function listen(
  handler: RequestListener,
  server: unknown,
  port: number,
  host?: string,
): Promise<http.Server> {
  const settings = serverSchema.parse(server ?? {});
  const s = settings.tls
    ? https.createServer(serverTlsOptions(settings.tls, mainRequestsCertificate(settings)), handler)
    : http.createServer(handler);
  await bind(s, port, host);
  return s;
}

/**
 * The mutual-TLS listener (not yet listening), or undefined without `server.mtls.port`: it always
 * requests a client certificate and serves only the aliased endpoints; everything else is 404.
 */
export function createMtlsServer(handler: RequestListener, server: unknown): https.Server | undefined {
  const settings = serverSchema.parse(server ?? {});
  if (!settings.tls || settings.mtls?.port === undefined) return undefined;
  const aliased = new Set<string>(Object.values(MTLS_ALIASED_ROUTES));
  return https.createServer(serverTlsOptions(settings.tls, true), (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (aliased.has(path)) {
      handler(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(
      JSON.stringify({
        error: 'not_found',
        error_description: 'this listener serves only the mutual-TLS endpoint aliases',
      }),
    );
  });
}

/** Starts the mutual-TLS listener on `server.mtls.port`, when configured. */
export async function listenMtls(
  handler: RequestListener,
  server: unknown,
  host?: string,
): Promise<https.Server | undefined> {
  const s = createMtlsServer(handler, server);
  if (!s) return undefined;
  await bind(s, serverSchema.parse(server).mtls!.port!, host);
  return s;
}

/** intermediates a forwarded value may carry after the client certificate */
const MAX_FORWARDED_INTERMEDIATES = 4;

/**
 * Decode a forwarded certificate: URL-encoded PEM (nginx $ssl_client_escaped_cert, AWS ALB), PEM with
 * spaces, or base64 DER. With several PEM blocks the first is the client's; the rest is its chain.
 */
export function parseForwardedChain(value: string): X509Certificate[] {
  try {
    let text = value.trim();
    if (text.includes('%')) text = decodeURIComponent(text);
    const blocks = [...text.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map(
      (m) => m[1]!,
    );
    if (blocks.length > 1 + MAX_FORWARDED_INTERMEDIATES) return [];
    const out: X509Certificate[] = [];
    for (const body of blocks.length ? blocks : [text]) {
      const b64 = body.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
      if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return [];
      out.push(new X509Certificate(Buffer.from(b64, 'base64')));
    }
    return out;
  } catch {
    return [];
  }
}

/** The client certificate of a forwarded value (see parseForwardedChain). */
export function parseForwardedCertificate(value: string): X509Certificate | undefined {
  return parseForwardedChain(value)[0];
}

interface PresentedCertificate {
  cert: X509Certificate;
  /** chain-verified against a configured CA (by our TLS stack, or by a trusted terminator) */
  authorized: boolean;
  via: 'tls' | 'header';
}

type Ctx = { req: IncomingMessage; get(name: string): string };

/** The certificate source for one server configuration; the result is cached per request. */
export class ClientCertificates {
  private readonly header: z.infer<typeof clientCertificateHeaderSchema> | undefined;
  private readonly trusted = new BlockList();
  private readonly clientCas: ClientCaStore;
  private readonly cache = new WeakMap<IncomingMessage, PresentedCertificate | null>();

  constructor(server: ServerConfig) {
    this.header = server.client_certificate_header;
    for (const entry of this.header?.trusted_proxies ?? []) {
      const [addr, bits] = entry.split('/') as [string, string | undefined];
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.trusted.addAddress(addr, type);
      else this.trusted.addSubnet(addr, Number(bits), type);
    }
    const caFile = server.client_certificate_header?.client_ca ?? server.tls?.client_ca;
    this.clientCas = new ClientCaStore(
      caFile ? splitPem(readFileSync(caFile, 'utf8')).map((p) => new X509Certificate(p)) : [],
    );
  }

  /** Whether the direct peer of this connection is a configured TLS terminator. */
  fromTrustedProxy(req: IncomingMessage): boolean {
    let addr = req.socket.remoteAddress ?? '';
    if (addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4) addr = addr.slice(7);
    const type = isIP(addr);
    return type !== 0 && this.trusted.check(addr, type === 6 ? 'ipv6' : 'ipv4');
  }

  presented(ctx: Ctx): PresentedCertificate | undefined {
    const cached = this.cache.get(ctx.req);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.lookup(ctx) ?? null;
    this.cache.set(ctx.req, found);
    return found ?? undefined;
  }

  private lookup(ctx: Ctx): PresentedCertificate | undefined {
    // Behind a terminator: only its header counts, and only when the connection is really from it.
    if (this.header && this.fromTrustedProxy(ctx.req)) {
      const value = ctx.get(this.header.name);
      if (!value) return undefined;
      const [cert, ...intermediates] = parseForwardedChain(value);
      if (!cert) return undefined;
      const terminatorVerified = this.header.verify_header ? ctx.get(this.header.verify_header) === 'SUCCESS' : true;
      return { cert, authorized: terminatorVerified && this.clientCas.verify(cert, intermediates), via: 'header' };
    }
    const socket = ctx.req.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function') return undefined;
    const peer = socket.getPeerCertificate(true);
    if (!peer?.raw) return undefined;
    return { cert: new X509Certificate(peer.raw), authorized: socket.authorized === true, via: 'tls' };
  }
}

function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** RFC 4514-ish DN string (`CN=demo-service,O=Demo Agency`) to attribute -> values, order-insensitive. */
function parseDn(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of dn.split(/(?<!\\)[,+]/)) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const type = part.slice(0, eq).trim().toUpperCase();
    const value = part
      .slice(eq + 1)
      .trim()
      .replace(/\\(.)/g, '$1');
    out.set(type, [...(out.get(type) ?? []), value].sort());
  }
  return out;
}

function subjectMap(cert: X509Certificate): Map<string, string[]> {
  const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[]>;
  const out = new Map<string, string[]>();
  for (const [type, value] of Object.entries(subject ?? {}))
    out.set(type.toUpperCase(), (Array.isArray(value) ? value : [value]).slice().sort());
  return out;
}

function sameDn(cert: X509Certificate, expected: string): boolean {
  const a = subjectMap(cert);
  const b = parseDn(expected);
  if (a.size !== b.size || a.size === 0) return false;
  for (const [k, v] of b) if (JSON.stringify(a.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

function sanEntries(cert: X509Certificate, prefix: string): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith(prefix))
    .map((s) => s.slice(prefix.length));
}

/**
 * node-oidc-provider `features.mTLS` for this server configuration, or undefined when no client
 * certificate can reach the gateway (no client CA / certificate request and no forwarding header).
 */
export function mtlsFeature(server: unknown) {
  const settings = serverSchema.parse(server ?? {});
  const native = mainRequestsCertificate(settings) || (settings.tls && settings.mtls?.port !== undefined);
  if (!native && !settings.client_certificate_header) return undefined;
  const certs = new ClientCertificates(settings);
  return {
    enabled: true,
    certificateBoundAccessTokens: true,
    tlsClientAuth: true,
    selfSignedTlsClientAuth: true,
    getCertificate: (ctx: Ctx) => certs.presented(ctx)?.cert,
    certificateAuthorized: (ctx: Ctx) => certs.presented(ctx)?.authorized === true,
    certificateSubjectMatches: (ctx: Ctx, property: string, expected: string) => {
      const cert = certs.presented(ctx)?.cert;
      if (!cert) return false;
      switch (property) {
        case 'tls_client_auth_subject_dn':
          return sameDn(cert, expected);
        case 'tls_client_auth_san_dns':
          return sanEntries(cert, 'DNS:').includes(expected);
        case 'tls_client_auth_san_uri':
          return sanEntries(cert, 'URI:').includes(expected);
        case 'tls_client_auth_san_email':
          return sanEntries(cert, 'email:').includes(expected);
        case 'tls_client_auth_san_ip':
          return cert.checkIP(expected) !== undefined;
        default:
          return false;
      }
    },
  };
}

/** Client authentication methods that need a certificate. */
export const CERTIFICATE_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

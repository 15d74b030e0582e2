// The client certificate of a request: from our own TLS socket or, behind a TLS terminator, from the
// configured header, and then only when the connection comes from a trusted proxy address (anyone
// else could simply write that header).
import { addressMatcher } from './address-blocks.ts';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { z } from 'zod';
import { ClientCaStore } from './chain.ts';
import { parseForwardedChain, splitPem } from './forwarded-certificate.ts';
import type { clientCertificateHeaderSchema, ServerConfig } from './server-config.ts';

export interface PresentedCertificate {
  cert: X509Certificate;
  /** chain-verified against a configured CA (by our TLS stack, or by a trusted terminator) */
  authorized: boolean;
  via: 'tls' | 'header';
}

/** What node-oidc-provider hands the mTLS hooks: the request and its header lookup. */
export type CertificateRequest = { req: IncomingMessage; get(name: string): string };

/** The certificate source for one server configuration; the result is cached per request. */
export class ClientCertificates {
  private readonly header: z.infer<typeof clientCertificateHeaderSchema> | undefined;
  private readonly trusted: (remote: string | undefined) => boolean;
  private readonly clientCas: ClientCaStore;
  private readonly cache = new WeakMap<IncomingMessage, PresentedCertificate | null>();

  constructor(server: ServerConfig) {
    this.header = server.client_certificate_header;
    this.trusted = addressMatcher(this.header?.trusted_proxies ?? []);
    const caFile = server.client_certificate_header?.client_ca ?? server.tls?.client_ca;
    this.clientCas = new ClientCaStore(
      caFile ? splitPem(readFileSync(caFile, 'utf8')).map((pem) => new X509Certificate(pem)) : [],
    );
  }

  /** Whether the direct peer of this connection is a configured TLS terminator. */
  fromTrustedProxy(req: IncomingMessage): boolean {
    return this.trusted(req.socket.remoteAddress);
  }

  presented(ctx: CertificateRequest): PresentedCertificate | undefined {
    const cached = this.cache.get(ctx.req);
    if (cached !== undefined) return cached ?? undefined;
    const found = this.lookup(ctx) ?? null;
    this.cache.set(ctx.req, found);
    return found ?? undefined;
  }

  private lookup(ctx: CertificateRequest): PresentedCertificate | undefined {
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

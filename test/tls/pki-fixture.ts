// Shared fixtures for the TLS tests: real certificates on disk and real HTTPS servers on loopback
// that record which client certificate each connection presented.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/tls/pki.ts';

export interface Files {
  ca: string;
  cert: string;
  key: string;
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'vpm-tls-'));
  write(name: string, content: string): string {
    const p = join(this.path, name);
    writeFileSync(p, content, { mode: 0o600 });
    return p;
  }
  /** writes a CA + leaf pair and returns a TlsClientConfig-shaped triple of paths */
  files(prefix: string, ca: CertificateAuthority, leaf: IssuedCertificate): Files {
    return {
      ca: this.write(`${prefix}-ca.pem`, ca.cert),
      cert: this.write(`${prefix}.pem`, leaf.cert),
      key: this.write(`${prefix}-key.pem`, leaf.key),
    };
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export const DAY = 86_400_000;

export async function serverCert(
  ca: CertificateAuthority,
  names: { dns?: string[]; ip?: string[] } = {},
  validity: { notBefore?: Date; notAfter?: Date } = {},
): Promise<IssuedCertificate> {
  return issueCertificate(ca, {
    commonName: names.dns?.[0] ?? 'localhost',
    usage: 'server',
    dnsNames: names.dns ?? ['localhost'],
    ipAddresses: names.ip ?? ['127.0.0.1'],
    ...validity,
  });
}

export async function clientCert(ca: CertificateAuthority, cn: string): Promise<IssuedCertificate> {
  return issueCertificate(ca, { commonName: cn, usage: 'client', subjectSuffix: 'O=Test' });
}

export { createCa };

export interface Recorded {
  /** SHA-256 fingerprints of client certificates presented, authorised or not */
  presented: string[];
  /** handshake failures the server saw */
  tlsErrors: string[];
  /** requests that reached the HTTP layer, with the authorised client CN */
  requests: { cn: string | undefined; resumed: boolean }[];
}

export interface TestServer {
  url: string;
  port: number;
  server: https.Server;
  seen: Recorded;
  close(): Promise<void>;
}

export function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** An HTTPS server on 127.0.0.1 that requires (by default) a client certificate from `clientCa`. */
export async function startServer(
  opts: https.ServerOptions & { closeEach?: boolean; recordAll?: boolean },
): Promise<TestServer> {
  const seen: Recorded = { presented: [], tlsErrors: [], requests: [] };
  const { closeEach, recordAll, ...tlsOpts } = opts;
  // recordAll: let every handshake finish so any presented certificate is recorded, then drop the
  // unauthorised ones ourselves; otherwise the TLS stack refuses them during the handshake.
  const server = https.createServer({ requestCert: true, rejectUnauthorized: !recordAll, ...tlsOpts }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate();
    seen.requests.push({
      cn: peer && 'subject' in peer ? (peer.subject?.CN as string | undefined) : undefined,
      resumed: socket.isSessionReused(),
    });
    if (closeEach) res.setHeader('connection', 'close');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, cn: peer?.subject?.CN ?? null }));
  });
  // Record every client certificate presented, even when the handshake is then refused.
  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = socket.getPeerCertificate();
    if (peer?.raw) seen.presented.push(new X509Certificate(peer.raw).fingerprint256);
    if (recordAll && !socket.authorized) socket.destroy();
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
    seen.tlsErrors.push(err.code ?? err.message);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The deepest `code` (or message) of a rejected fetch: undici wraps the TLS error as `cause`. */
export async function failureOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    let e: unknown = err;
    let last = '';
    while (e && typeof e === 'object') {
      const { code, message } = e as { code?: string; message?: string };
      last = code ?? message ?? last;
      e = (e as { cause?: unknown }).cause;
    }
    return last;
  }
  throw new Error('expected the request to fail, it succeeded');
}

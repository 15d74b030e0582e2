// One TLS handshake with a provider endpoint, offering exactly what a check needs (old protocol versions,
// CBC suites, no client certificate), and what the endpoint answered. OpenSSL 3 offers TLS 1.0/1.1 and
// SHA-1 only at security level 0, so the probing offers use it; verdicts never rely on it.
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

export interface HandshakeResult {
  ok: boolean;
  /** the handshake or connection error, when refused */
  error?: string | undefined;
  protocol?: string | undefined;
  cipher?: string | undefined;
  /** the chain verified against the CA given (or the system store) */
  authorized?: boolean | undefined;
  authorizationError?: string | undefined;
  /** the presented chain, leaf first */
  chain?: X509Certificate[] | undefined;
  /** the peer answered a request over the connection (it did not close it after the handshake) */
  answered?: boolean | undefined;
}

export interface Endpoint {
  host: string;
  port: number;
  servername?: string | undefined;
}

const TIMEOUT_MS = 10_000;

function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  // node links each certificate to its issuer as far as the peer sent it (a root links to itself)
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Connects, and with `ask` sends a minimal HTTP request to learn whether the peer serves this connection
 * (a TLS 1.3 server refuses a missing client certificate only after the handshake). */
export function handshake(endpoint: Endpoint, options: tls.ConnectionOptions, ask = false): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let result: HandshakeResult | undefined;
    const socket = tls.connect({
      host: endpoint.host,
      port: endpoint.port,
      servername: endpoint.servername ?? (/^[\d.:]+$/.test(endpoint.host) ? undefined : endpoint.host),
      ...options,
    });
    const finish = (r: HandshakeResult) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(TIMEOUT_MS, () => finish(result ?? { ok: false, error: 'timed out' }));
    socket.once('secureConnect', () => {
      result = {
        ok: true,
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.standardName,
        authorized: socket.authorized,
        authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
        chain: presentedChain(socket),
      };
      if (!ask) return finish(result);
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${endpoint.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.once('data', () => finish({ ...result!, answered: true }));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(
        result
          ? { ...result, answered: false, error: err.code ?? err.message }
          : { ok: false, error: err.code ?? err.message },
      ),
    );
    socket.once('close', () => finish(result ? { ...result, answered: false } : { ok: false, error: 'closed' }));
  });
}

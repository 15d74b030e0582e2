// One dedicated undici Agent per provider. With a `tls` block: the gateway's client certificate for
// that provider only (when the block names one), the provider's CA as the sole trust anchor, optional SPKI pins, TLS 1.2+, strong
// suites. Node skips checkServerIdentity on resumed sessions, so (1) the TLS session cache is off and
// (2) the host name and pins are checked again after every handshake, whatever Node did or skipped.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, createSecureContext, type TLSSocket, type ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { isMutualTls, type ProviderTransport, type TlsClientConfig } from './transport.ts';
import { STRONG_CIPHERS, TLS_MIN_VERSION, pinMatches, spkiSha256 } from './policy.ts';

/** What the per-connection check saw; handed to `onPeerVerified` (tests, metrics). */
export interface PeerVerification {
  providerId: string;
  host: string;
  /** SPKI SHA-256 of the server's leaf certificate, base64 */
  spkiPin: string;
  /** whether TLS resumed an earlier session (the check runs anyway) */
  resumed: boolean;
  protocol: string | null;
}

export interface ProviderTransportOptions {
  onPeerVerified?: (v: PeerVerification) => void;
  /** connect timeout in ms (default 10 s) */
  connectTimeout?: number;
  /** headers and body timeout in ms (default 15 s) */
  responseTimeout?: number;
}

export interface DedicatedTransport extends ProviderTransport {
  readonly providerId: string;
  readonly mutualTls: boolean;
  /** the provider's own undici dispatcher, for libraries that take one */
  readonly dispatcher: Agent;
}

/** A refusal by the gateway's own per-connection check (the cause inside fetch's `TypeError: fetch failed`). */
export class TlsPeerError extends Error {
  override name = 'TlsPeerError';
  readonly code:
    | 'ERR_VPM_TLS_HOSTNAME'
    | 'ERR_VPM_TLS_PIN_MISMATCH'
    | 'ERR_VPM_TLS_UNAUTHORIZED'
    | 'ERR_VPM_TLS_PLAIN_HTTP';
  constructor(code: TlsPeerError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

function readPem(providerId: string, field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(
      `provider ${providerId}: cannot read tls.${field} file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** node:tls options for one provider; validated eagerly so a bad key or certificate fails at startup. */
export function providerTlsOptions(providerId: string, config: TlsClientConfig | undefined): ConnectionOptions {
  const base: ConnectionOptions = {
    minVersion: TLS_MIN_VERSION,
    ciphers: STRONG_CIPHERS,
    honorCipherOrder: true,
    rejectUnauthorized: true,
  };
  if (!config) return base;
  const options: ConnectionOptions = {
    ...base,
    ca: readPem(providerId, 'ca', config.ca),
    ...(config.cert ? { cert: readPem(providerId, 'cert', config.cert) } : {}),
    ...(config.key ? { key: readPem(providerId, 'key', config.key) } : {}),
    ...(config.servername ? { servername: config.servername } : {}),
  };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`provider ${providerId}: unusable tls certificate or key: ${(err as Error).message}`);
  }
  return options;
}

function verifyPeer(
  providerId: string,
  socket: TLSSocket,
  host: string,
  config: TlsClientConfig | undefined,
): PeerVerification {
  if (!socket.authorized) {
    throw new TlsPeerError(
      'ERR_VPM_TLS_UNAUTHORIZED',
      `provider ${providerId}: server certificate not trusted (${String(socket.authorizationError)})`,
    );
  }
  // getPeerCertificate, not getPeerX509Certificate: on Node 24 a client-side getPeerX509Certificate()
  // empties every later peer-certificate call on that socket (other code may need it after us).
  const legacy = socket.getPeerCertificate(true);
  if (!legacy?.raw)
    throw new TlsPeerError('ERR_VPM_TLS_UNAUTHORIZED', `provider ${providerId}: server presented no certificate`);
  const identityError = checkServerIdentity(host, legacy);
  if (identityError) throw new TlsPeerError('ERR_VPM_TLS_HOSTNAME', `provider ${providerId}: ${identityError.message}`);
  const peer = new X509Certificate(legacy.raw);
  const spkiPin = spkiSha256(peer);
  if (config?.pins && config.pins.length > 0 && !pinMatches(spkiPin, config.pins)) {
    throw new TlsPeerError(
      'ERR_VPM_TLS_PIN_MISMATCH',
      `provider ${providerId}: server key ${spkiPin} matches no configured pin for ${host}`,
    );
  }
  return { providerId, host, spkiPin, resumed: socket.isSessionReused(), protocol: socket.getProtocol() };
}

/**
 * The back-channel transport of one provider. Every adapter's HTTP to its provider goes through
 * `fetch` (openid-client's customFetch, SAML metadata, banklink status calls).
 */
export function createProviderTransport(
  providerId: string,
  config: TlsClientConfig | undefined,
  options: ProviderTransportOptions = {},
): DedicatedTransport {
  const tlsOptions = providerTlsOptions(providerId, config);
  const baseConnect = buildConnector({
    ...tlsOptions,
    // No session reuse: a resumed session would skip Node's own identity check.
    maxCachedSessions: 0,
    timeout: options.connectTimeout ?? 10_000,
  } as buildConnector.BuildOptions);

  const connect: buildConnector.connector = (opts, callback) => {
    if (opts.protocol !== 'https:' && config) {
      callback(
        new TlsPeerError(
          'ERR_VPM_TLS_PLAIN_HTTP',
          `provider ${providerId}: a tls block is configured, refusing plain ${opts.protocol}// to ${opts.hostname}`,
        ),
        null,
      );
      return;
    }
    baseConnect(opts, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error(`provider ${providerId}: connection failed`), null);
        return;
      }
      if (opts.protocol !== 'https:') {
        callback(null, socket);
        return;
      }
      // The name to check: the configured server name, else the URL host (IPv6 brackets removed).
      const urlHost = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      const host = config?.servername ?? urlHost;
      try {
        const verified = verifyPeer(providerId, socket as TLSSocket, host, config);
        options.onPeerVerified?.(verified);
      } catch (checkError) {
        socket.destroy();
        callback(checkError as Error, null);
        return;
      }
      callback(null, socket);
    });
  };

  const dispatcher = new Agent({
    connect,
    headersTimeout: options.responseTimeout ?? 15_000,
    bodyTimeout: options.responseTimeout ?? 15_000,
  });

  type Init = NonNullable<Parameters<typeof undiciFetch>[1]>;
  const fetch = ((input: string | URL | Request, init?: Init) => {
    // A Request of Node's built-in fetch is not undici's own class: pass its parts instead.
    if (typeof input === 'object' && !(input instanceof URL)) {
      const req = input;
      const parts: Init = {
        method: req.method,
        headers: [...req.headers],
        ...(req.body ? { body: req.body, duplex: 'half' } : {}),
      } as Init;
      return undiciFetch(req.url, { ...parts, ...init, dispatcher });
    }
    // our dispatcher last: a caller can never route around the provider's agent
    return undiciFetch(input, { ...init, dispatcher });
  }) as unknown as typeof globalThis.fetch;

  return {
    providerId,
    mutualTls: isMutualTls(config),
    dispatcher,
    fetch,
    close: () => dispatcher.close(),
  };
}

// The gateway's inbound listeners: the main one (HTTPS with `server.tls`, else plain HTTP) and the
// mutual-TLS listener that serves only the RFC 8705 endpoint aliases.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { RequestListener } from 'node:http';
import type { z } from 'zod';
import { STRONG_CIPHERS, TLS_MIN_VERSION } from './policy.ts';
import { mainListenerRequestsCertificate, serverSchema, type serverTlsSchema } from './server-config.ts';
import { MTLS_ALIASED_ROUTES } from './mtls-endpoint-aliases.ts';

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

/** How long a client may take to send a request (`server.request_timeout`, 30 s by default; its headers at
 * most 20 s): Node's own five minutes let a client that drips a request body hold a connection and the
 * buffered body that long. Checked every second, so a request is cut within a second of its limit; answered
 * 408 and closed. */
function requestTimeouts(seconds = 30): http.ServerOptions {
  return {
    requestTimeout: seconds * 1000,
    headersTimeout: Math.min(seconds, 20) * 1000,
    connectionsCheckingInterval: 1000,
  };
}

/** The port is taken (another program, or a gateway already running): one line says what to do. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
  constructor(port: number, host: string | undefined, setting: string) {
    super(`port ${port}${host ? ` on ${host}` : ''} is already in use: stop what uses it, or set ${setting}`);
  }
}

/** Listens on `port`; a port in use is a PortInUseError naming `setting`, the way to choose another. */
export function bind(listener: http.Server, port: number, host: string | undefined, setting: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(port, host, setting) : err);
    listener.once('error', failed);
    listener.listen(port, host, () => {
      listener.off('error', failed);
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
  const limits = requestTimeouts(settings.request_timeout);
  const listener = settings.tls
    ? https.createServer(
        { ...serverTlsOptions(settings.tls, mainListenerRequestsCertificate(settings)), ...limits },
        handler,
      )
    : http.createServer(limits, handler);
  await bind(
    listener,
    port,
    host,
    `another port with the PORT variable (${startAgainOn(port === 3000 ? 3001 : port + 1)})`,
  );
  return listener;
}

const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

/**
 * The command that started this process, on `port`: PORT before it and the rest as given, so a
 * `--config FILE` (or $VPM_CONFIG) is kept. An npm script (`npm start`, `npm run start:https`) is named as
 * such, with what was passed after `--`; otherwise the `vpm-gateway` arguments.
 */
export function startAgainOn(port: number, argv = process.argv.slice(2), env = process.env): string {
  const words = (list: string[]) => list.map(shellWord).join(' ');
  const named = argv.some((a) => /^(-c|--config)(=|$)/.test(a));
  const prefix = `PORT=${port}${env.VPM_CONFIG && !named ? ` VPM_CONFIG=${shellWord(env.VPM_CONFIG)}` : ''}`;
  // the script's own arguments to this program: its last `main.ts ...` command (start:https runs two)
  const own = /.*main\.ts\s+([^&|;]*)$/
    .exec(env.npm_lifecycle_script ?? '')?.[1]
    ?.trim()
    .split(/\s+/);
  const script = env.npm_lifecycle_event;
  if (script && own?.every((word, i) => argv[i] === word)) {
    const extra = argv.slice(own.length);
    const run = script === 'start' ? 'npm start' : `npm run ${shellWord(script)}`;
    return `${prefix} ${run}${extra.length ? ` -- ${words(extra)}` : ''}`;
  }
  return `${prefix} vpm-gateway ${words(argv)}`;
}

/**
 * The mutual-TLS listener (not yet listening), or undefined without `server.mtls.port`: it always
 * requests a client certificate and serves only the aliased endpoints; everything else is 404.
 */
export function createMtlsServer(handler: RequestListener, server: unknown): https.Server | undefined {
  const settings = serverSchema.parse(server ?? {});
  if (!settings.tls || settings.mtls?.port === undefined) return undefined;
  const aliased = new Set<string>(Object.values(MTLS_ALIASED_ROUTES));
  return https.createServer(
    { ...serverTlsOptions(settings.tls, true), ...requestTimeouts(settings.request_timeout) },
    (req, res) => {
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
    },
  );
}

/** Starts the mutual-TLS listener on `server.mtls.port`, when configured. */
export async function listenMtls(
  handler: RequestListener,
  server: unknown,
  host?: string,
): Promise<https.Server | undefined> {
  const listener = createMtlsServer(handler, server);
  if (!listener) return undefined;
  await bind(listener, serverSchema.parse(server).mtls!.port!, host, 'another server.mtls.port');
  return listener;
}

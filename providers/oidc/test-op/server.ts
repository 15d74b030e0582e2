// The test OP on its own HTTP(S) server: HTTPS with a freshly made development CA by default (so the
// real TLS path and tls_client_auth are exercised), the gateway's client certificate written to files
// for its provider `tls` block, and a browser that logs in as the test chooses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { ClientMetadata, Provider } from 'oidc-provider';
import { createCa, issueCertificate } from '../../../src/tls/pki.ts';
import { TestBrowser } from './browser.ts';
import { createTestOpProvider } from './provider.ts';
import type { Tamper } from './tamper.ts';
import type { TestUser } from './users.ts';

export interface TestOpOptions {
  /** clients registered at the OP (redirect_uris must hold the gateway's callback URL); more via addClient() */
  clients?: ClientMetadata[];
  /** default true: HTTPS with a freshly made development CA */
  https?: boolean;
  users?: Record<string, TestUser>;
  host?: string;
  port?: number;
  /** RFC 8705 as the gateway's own `server.mtls` does it: the issuer's listener never asks for a client
   * certificate; a second listener that does serves token, userinfo and PAR, published as
   * `mtls_endpoint_aliases` (HTTPS only) */
  mtlsAliases?: boolean;
}

export interface LoginChoice {
  /** a key of the users table (default `valid`) */
  user?: string;
  acr?: string;
  amr?: string[];
  /** answer with this error instead of logging in */
  error?: { error: string; error_description?: string };
}

export interface TestOp {
  issuer: string;
  /** TLS material for the gateway's provider `tls` block (files), and the CA in PEM */
  tls?: { ca: string; cert: string; key: string; caPem: string; clientSubjectDn: string };
  /** the OP's private signing JWK (tests forge tokens with it) and its public JWKS */
  signingKey: JWK;
  jwks: { keys: JWK[] };
  tamper: Tamper;
  provider: Provider;
  /** origin of the mutual-TLS alias listener (with `mtlsAliases`) */
  mtlsAliasOrigin?: string;
  /** Register (or replace) a client, e.g. once the gateway's callback URL is known. */
  addClient(metadata: ClientMetadata): void;
  /** Move the login of every single sign-on session this many seconds into the past. */
  ageSessions(seconds: number): void;
  /** Follow an authorization URL as a browser, log in (or fail) as chosen; returns the redirect back to the
   * client. A fresh browser each time, unless `keepSession` (the previous call's browser, with its OP session). */
  login(authorizationUrl: string, choice?: LoginChoice, o?: { keepSession?: boolean }): Promise<URL>;
  close(): Promise<void>;
}

async function listen(server: Server, host: string, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

export async function startTestOp(options: TestOpOptions): Promise<TestOp> {
  const useHttps = options.https ?? true;
  const clients = new Map((options.clients ?? []).map((c) => [c.client_id, c]));
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'vpm-test-op-'));
  let tls: TestOp['tls'];
  let server: Server;
  let aliasServer: Server | undefined;
  let serverCert: { cert: string; key: string; ca: string } | undefined;
  if (useHttps) {
    const ca = await createCa({ commonName: 'VPM Test eID CA' });
    const srv = await issueCertificate(ca, {
      commonName: host,
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const gw = await issueCertificate(ca, { commonName: 'vpm-gateway', subjectSuffix: 'O=VPM Test', usage: 'client' });
    const files = {
      ca: join(dir, 'ca.pem'),
      cert: join(dir, 'gateway-client.pem'),
      key: join(dir, 'gateway-client.key'),
    };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, gw.cert);
    writeFileSync(files.key, gw.key, { mode: 0o600 });
    tls = { ...files, caPem: ca.cert, clientSubjectDn: 'CN=vpm-gateway,O=VPM Test' };
    serverCert = { cert: srv.cert, key: srv.key, ca: ca.cert };
    // client certificates are requested but optional: tls_client_auth clients need one, others not
    const httpsServer = (requestCert: boolean) =>
      createHttpsServer({
        cert: srv.cert,
        key: srv.key,
        ca: ca.cert,
        requestCert,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
      });
    server = httpsServer(!options.mtlsAliases);
    if (options.mtlsAliases) aliasServer = httpsServer(true);
  } else {
    server = createHttpServer();
  }
  const issuer = `${useHttps ? 'https' : 'http'}://${host}:${await listen(server, host, options.port ?? 0)}`;
  const aliasOrigin = aliasServer ? `https://${host}:${await listen(aliasServer, host, 0)}` : undefined;

  const op = await createTestOpProvider({
    issuer,
    clients,
    ...(options.users ? { users: options.users } : {}),
    mtls: useHttps,
    ...(aliasOrigin
      ? {
          mtlsEndpointAliases: {
            token_endpoint: `${aliasOrigin}/token`,
            userinfo_endpoint: `${aliasOrigin}/me`,
            pushed_authorization_request_endpoint: `${aliasOrigin}/request`,
          },
        }
      : {}),
  });
  const { provider, signingKey, jwks, tamper } = op;
  server.on('request', op.handle);
  aliasServer?.on('request', op.handle);

  const browser = new TestBrowser(issuer, serverCert?.ca);

  return {
    issuer,
    ...(tls ? { tls } : {}),
    signingKey,
    jwks,
    tamper,
    provider,
    ...(aliasOrigin ? { mtlsAliasOrigin: aliasOrigin } : {}),
    addClient(metadata) {
      clients.set(metadata.client_id, metadata);
    },
    ageSessions: (seconds) => op.ageSessions(seconds),
    async login(authorizationUrl, choice = {}, o = {}) {
      return browser.authorize(authorizationUrl, choice, o);
    },
    async close() {
      await browser.close();
      for (const s of aliasServer ? [server, aliasServer] : [server]) {
        s.closeAllConnections?.();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// What the inbound certificate tests share (RFC 8705 at the token endpoint): an agency PKI on disk (the
// client CA, a server certificate, two agency certificates, an impostor's with the same DN from a rogue CA,
// a self-signed one), the gateway behind the real config loader and listener with an agency service for
// each method, and openid-client playing a service that presents a certificate.
import { beforeAll, afterAll } from '@jest/globals';
import type http from 'node:http';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { listen } from '../../src/tls/listeners.ts';
import { createProviderTransport, type DedicatedTransport } from '../../src/tls/transport.ts';
import type { CertificateAuthority, IssuedCertificate } from '../../src/tls/pki.ts';
import { exchangeCode, loginThroughMock, MOCK_PROVIDER, RP_REDIRECT } from '../support/gateway.ts';
import { TempDir, createCa, serverCert, clientCert } from './pki-fixture.ts';

export const AGENCY_DN = 'CN=demo-service,O=Test';
/** the test PKI: set by useAgencyPki()'s beforeAll */
export const pki = {} as {
  dir: TempDir;
  ca: CertificateAuthority;
  wrongCa: CertificateAuthority;
  server: IssuedCertificate;
  agency: IssuedCertificate;
  otherAgency: IssuedCertificate;
  impostor: IssuedCertificate;
  selfSigned: CertificateAuthority;
};
/** the PEM files: ca, server, serverKey */
export const files: Record<string, string> = {};
/** closed after all tests of the file, last registered first */
export const closers: (() => Promise<void>)[] = [];

export function selfSignedJwks(cert: string) {
  const x = new X509Certificate(cert);
  return { keys: [{ ...x.publicKey.export({ format: 'jwk' }), x5c: [x.raw.toString('base64')] }] };
}

export function mtlsClients(jwks: unknown) {
  return [
    {
      client_id: 'svc-mtls',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: AGENCY_DN,
      redirect_uris: [RP_REDIRECT],
    },
    {
      client_id: 'svc-self',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks,
      redirect_uris: [RP_REDIRECT],
    },
  ];
}

/** A fetch presenting `cert` (or none) and trusting the test CA. */
export function clientTransport(name: string, cert: IssuedCertificate | undefined): typeof fetch {
  if (!cert) {
    const agent = new Agent({ connect: { ca: pki.ca.cert } });
    closers.push(() => agent.close());
    return ((u: string, init?: object) => undiciFetch(u, { ...init, dispatcher: agent })) as unknown as typeof fetch;
  }
  const t: DedicatedTransport = createProviderTransport(name, {
    ca: files.ca!,
    cert: pki.dir.write(`${name}.pem`, cert.cert),
    key: pki.dir.write(`${name}-key.pem`, cert.key),
  });
  closers.push(() => t.close());
  return t.fetch;
}

export async function serviceConfig(
  issuer: string,
  clientId: string,
  fetchImpl: typeof fetch,
): Promise<oidc.Configuration> {
  const config = await oidc.discovery(new URL(issuer), clientId, {}, oidc.TlsClientAuth(), {
    [oidc.customFetch]: fetchImpl as oidc.CustomFetch,
    execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
  });
  config[oidc.customFetch] = fetchImpl as oidc.CustomFetch;
  return config;
}

export async function loginAndExchange(config: oidc.Configuration) {
  const login = await loginThroughMock(config);
  return exchangeCode(config, login, login.callback!);
}

export interface Started {
  issuer: string;
  gateway: Gateway;
}

/** The real config loader and gateway behind the real listener (HTTPS when pki.server.tls is set). */
export async function startHere(serverSettings: Record<string, unknown>): Promise<Started> {
  let handler: http.RequestListener = (_q, r) => void r.writeHead(503).end();
  const s = await listen((q, r) => handler(q, r), serverSettings, 0, '127.0.0.1');
  const issuer = `${serverSettings.tls ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const raw = {
    issuer,
    keys: { dir: `${pki.dir.path}/keys` },
    server: serverSettings,
    clients: mtlsClients(selfSignedJwks(pki.selfSigned.cert)),
    providers: [MOCK_PROVIDER],
  };
  const config = parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} });
  const gateway = await createGateway(config, { logger: memoryLogger(), audit: new MemoryAuditLog() });
  handler = gateway.app;
  closers.push(async () => {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    await gateway.close();
  });
  return { issuer, gateway };
}

/** Registers the PKI's beforeAll, and the closing of what the tests started, in the current file. */
export function useAgencyPki(): void {
  beforeAll(async () => {
    const dir = new TempDir();
    pki.dir = dir;
    [pki.ca, pki.wrongCa, pki.selfSigned] = await Promise.all([
      createCa({ commonName: 'Agency PKI' }),
      createCa({ commonName: 'Rogue CA' }),
      createCa({ commonName: 'self-signed-service' }),
    ]);
    [pki.server, pki.agency, pki.otherAgency, pki.impostor] = await Promise.all([
      serverCert(pki.ca),
      clientCert(pki.ca, 'demo-service'),
      clientCert(pki.ca, 'other-service'),
      clientCert(pki.wrongCa, 'demo-service'),
    ]);
    Object.assign(files, {
      ca: dir.write('ca.pem', pki.ca.cert),
      server: dir.write('server.pem', pki.server.cert),
      serverKey: dir.write('server-key.pem', pki.server.key),
    });
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    pki.dir.remove();
  });
}

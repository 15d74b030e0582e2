// What the security probe tests share: a CA with the gateway's client certificate, and provider endpoints
// on loopback (real TLS servers) that each fail one VPM security check as told, probed as the gateway does.
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { type CheckResult, probeEndpoint } from '../../src/onboarding/probe/checks.ts';
import {
  type CertificateAuthority,
  createCa,
  type IssuedCertificate,
  issueCertificate,
  type LeafOptions,
} from '../../src/tls/pki.ts';

export const AEAD =
  'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';

/** the CA and the gateway's client certificate: set by useProbeCa()'s beforeAll */
export const pki = {} as { ca: CertificateAuthority; client: IssuedCertificate };
const servers: tls.Server[] = [];

/** Registers the CA's beforeAll, and the closing of the endpoints the tests start, in the current file. */
export function useProbeCa(): void {
  beforeAll(async () => {
    pki.ca = await createCa({ commonName: 'Probe test CA' });
    pki.client = await issueCertificate(pki.ca, { commonName: 'vpm-gateway', usage: 'client' });
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });
}

/** A provider endpoint answering any request with 200 and `body`; `options` make it fail a check. */
export async function provider(
  leaf: Partial<LeafOptions> = {},
  options: tls.TlsOptions = {},
  body = '',
): Promise<number> {
  const cert = await issueCertificate(pki.ca, {
    commonName: 'provider',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    ...leaf,
  });
  const server = tls.createServer(
    {
      key: cert.key,
      cert: cert.cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ciphers: AEAD,
      ...options,
    },
    (socket) => {
      socket.on('data', () =>
        socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`),
      );
      socket.on('error', () => {});
    },
  );
  server.on('tlsClientError', () => {});
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

export async function probe(port: number, withClientCertificate = true): Promise<Record<string, CheckResult>> {
  const results = await probeEndpoint(
    { host: '127.0.0.1', port },
    {
      ca: pki.ca.cert,
      ...(withClientCertificate ? { cert: pki.client.cert, key: pki.client.key } : {}),
      warningDays: 30,
    },
  );
  return Object.fromEntries(results.map((r) => [r.check, r]));
}

export const failing = (results: Record<string, CheckResult>) =>
  Object.values(results)
    .filter((r) => !r.ok)
    .map((r) => r.check);

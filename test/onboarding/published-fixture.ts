// What the published-documents probe tests share: a CA with the gateway's client certificate (its files in
// a temporary directory), optionally the test OP, and HTTPS providers on loopback that demand that
// certificate and publish the documents a test gives them: OpenID discovery and JWKS, SAML metadata.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factory as oidc } from '../../providers/oidc/index.ts';
import { startTestOp, type TestOp } from '../../providers/oidc/test-op/index.ts';
import type { ProviderEntry } from '../../src/config/load.ts';
import { createCa, type CertificateAuthority, type IssuedCertificate, issueCertificate } from '../../src/tls/pki.ts';

const AEAD = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';

/** set by usePublishers()'s beforeAll: the directory, the gateway's mutual-TLS files, the test OP if asked for */
export const fixture = {} as { dir: string; tlsFiles: { ca: string; cert: string; key: string }; op: TestOp };
const pki = {} as { ca: CertificateAuthority; client: IssuedCertificate };
const servers: https.Server[] = [];

/** Registers the CA and files (and the test OP with `testOp`) before all tests, closed and removed after. */
export function usePublishers(options: { testOp?: boolean } = {}): void {
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpm-probe-published-'));
    fixture.dir = dir;
    pki.ca = await createCa({ commonName: 'Published probe CA' });
    pki.client = await issueCertificate(pki.ca, { commonName: 'vpm-gateway', usage: 'client' });
    const tlsFiles = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
    fixture.tlsFiles = tlsFiles;
    writeFileSync(tlsFiles.ca, pki.ca.cert);
    writeFileSync(tlsFiles.cert, pki.client.cert);
    writeFileSync(tlsFiles.key, pki.client.key);
    if (options.testOp) fixture.op = await startTestOp({});
  });
  afterAll(async () => {
    await fixture.op?.close();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    rmSync(fixture.dir, { recursive: true, force: true });
  });
}

/** An HTTPS provider demanding the gateway's client certificate and serving `documents` by path. */
export async function publisher(documents: (base: string) => Record<string, { type: string; body: string }>) {
  const cert = await issueCertificate(pki.ca, { commonName: 'provider', usage: 'server', ipAddresses: ['127.0.0.1'] });
  let base = '';
  const server = https.createServer(
    { key: cert.key, cert: cert.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: true, ciphers: AEAD },
    (req, res) => {
      const doc = documents(base)[req.url ?? ''];
      if (!doc) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': doc.type }).end(doc.body);
    },
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return base;
}

export const json = (value: unknown) => ({ type: 'application/json', body: JSON.stringify(value) });
export const rsaJwk = (bits: number, kid: string) => ({
  ...generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
  alg: 'RS256',
});
export const ecJwk = (namedCurve: string, kid: string) => ({
  ...generateKeyPairSync('ec', { namedCurve }).publicKey.export({ format: 'jwk' }),
  kid,
});

export function oidcEntry(issuer: string, tls: object = fixture.tlsFiles, extra: object = {}): ProviderEntry {
  return { factory: oidc, config: { id: 'eid-x', type: 'oidc', issuer, tls, ...extra } } as unknown as ProviderEntry;
}

/** An OP at its issuer URL: discovery as OpenID Connect Discovery 1.0 publishes it, and its JWKS. */
export function opDocuments(keys: object[], algs = ['RS256', 'ES256']) {
  return (base: string) => ({
    '/.well-known/openid-configuration': json({
      issuer: base,
      jwks_uri: `${base}/jwks`,
      id_token_signing_alg_values_supported: algs,
    }),
    '/jwks': json({ keys }),
  });
}

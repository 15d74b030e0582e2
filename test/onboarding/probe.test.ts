// The security probe against real TLS servers, each failing one VPM security check in turn: TLS 1.0/1.1
// only, a CBC suite, an expired chain, no client certificate demanded, an RSA-1024 key, a SHA-1
// signature; and a server meeting them all, whose passing report lets the provider into testing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { parse, stringify } from 'yaml';
import { type CheckResult, probeEndpoint } from '../../src/onboarding/probe/checks.ts';
import {
  type CertificateAuthority,
  createCa,
  type IssuedCertificate,
  issueCertificate,
  type LeafOptions,
} from '../../src/tls/pki.ts';
import { runCli } from '../support/cli.ts';
import { productionOidcEntry, SAML_TEST_ENTRY, SMARTID_TEST_ENTRY } from '../support/provider-entries.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { idpMetadata } from '../../providers/saml/test-idp/metadata.ts';
import { probeProvider } from '../../src/onboarding/probe/probe.ts';
import type { GatewayConfig } from '../../src/config/load.ts';
import { record, writeRegistry } from './fixtures.ts';

const AEAD =
  'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384';
const DAY = 86_400_000;

let ca: CertificateAuthority;
let client: IssuedCertificate;
const servers: tls.Server[] = [];

beforeAll(async () => {
  ca = await createCa({ commonName: 'Probe test CA' });
  client = await issueCertificate(ca, { commonName: 'vpm-gateway', usage: 'client' });
});
afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
});

/** A provider endpoint answering any request with 200 and `body`; `options` make it fail a check. */
async function provider(leaf: Partial<LeafOptions> = {}, options: tls.TlsOptions = {}, body = ''): Promise<number> {
  const cert = await issueCertificate(ca, {
    commonName: 'provider',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
    ...leaf,
  });
  const server = tls.createServer(
    {
      key: cert.key,
      cert: cert.cert,
      ca: ca.cert,
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

async function probe(port: number, withClientCertificate = true): Promise<Record<string, CheckResult>> {
  const results = await probeEndpoint(
    { host: '127.0.0.1', port },
    { ca: ca.cert, ...(withClientCertificate ? { cert: client.cert, key: client.key } : {}), warningDays: 30 },
  );
  return Object.fromEntries(results.map((r) => [r.check, r]));
}

const failing = (results: Record<string, CheckResult>) =>
  Object.values(results)
    .filter((r) => !r.ok)
    .map((r) => r.check);

test('a provider meeting every level passes every check', async () => {
  const results = await probe(await provider());
  expect(failing(results)).toEqual([]);
  expect(results.mutual_auth?.detail).toContain("refuses a connection without the gateway's client certificate");
});

test('TLS 1.0/1.1 only', async () => {
  const port = await provider({}, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
  const results = await probe(port);
  expect(results.tls_versions).toMatchObject({ ok: false, detail: expect.stringMatching(/^accepts TLSv1(\.1)? /) });
});

test('a CBC suite beside the AEAD ones', async () => {
  const results = await probe(await provider({}, { maxVersion: 'TLSv1.2', ciphers: `${AEAD}:ECDHE-ECDSA-AES128-SHA` }));
  expect(failing(results)).toEqual(['aead_only']);
  expect(results.aead_only?.detail).toBe('accepts the non-AEAD suite TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA');
});

test('an expired chain, and one expiring within the warning period', async () => {
  const expired = await probe(
    await provider({ notBefore: new Date(Date.now() - 60 * DAY), notAfter: new Date(Date.now() - DAY) }),
  );
  expect(failing(expired)).toEqual(['chain']);
  expect(expired.chain?.detail).toBe('the chain does not verify: CERT_HAS_EXPIRED');
  const soon = await probe(await provider({ notAfter: new Date(Date.now() + 10 * DAY) }));
  expect(failing(soon)).toEqual(['chain']);
  expect(soon.chain?.detail).toMatch(/expires .* within 30 days$/);
});

test('a certificate for another host', async () => {
  const results = await probe(await provider({ ipAddresses: [], dnsNames: ['bank.example.lv'] }));
  expect(failing(results)).toEqual(['chain']);
  // node checks the name (RFC 6125) along with the chain, so the verdict says so
  expect(results.chain?.detail).toBe('the chain does not verify: ERR_TLS_CERT_ALTNAME_INVALID');
});

test('no client certificate demanded, or none configured', async () => {
  const open = await probe(await provider({}, { requestCert: false, rejectUnauthorized: false }));
  expect(failing(open)).toEqual(['mutual_auth']);
  expect(open.mutual_auth?.detail).toBe('serves a connection without a client certificate');
  const asked = await probe(await provider({}, { requestCert: true, rejectUnauthorized: false }));
  expect(failing(asked)).toEqual(['mutual_auth']);
  const unconfigured = await probe(await provider(), false);
  expect(unconfigured.mutual_auth).toMatchObject({
    ok: false,
    detail: expect.stringContaining('no client certificate configured'),
  });
});

test('a browser-facing endpoint is not asked for mutual TLS: its answers are signed instead', async () => {
  const port = await provider({}, { requestCert: false, rejectUnauthorized: false });
  const results = await probeEndpoint(
    { host: '127.0.0.1', port },
    { ca: ca.cert, warningDays: 30, backChannel: false },
  );
  expect(results.map((r) => [r.check, r.ok])).toEqual([
    ['tls_versions', true],
    ['aead_only', true],
    ['chain', true],
    ['key_strength', true],
    ['mutual_auth', true],
  ]);
  expect(results.at(-1)?.detail).toContain('reached by the browser');
});

test('an RSA-1024 key', async () => {
  const results = await probe(await provider({ key: { type: 'rsa', bits: 1024 } }, { ciphers: `${AEAD}:@SECLEVEL=0` }));
  expect(failing(results)).toEqual(['key_strength']);
  expect(results.key_strength?.detail).toBe('the server certificate has an RSA key of 1024 bits (at least 2048)');
});

test('a SHA-1 signature', async () => {
  const results = await probe(await provider({ hash: 'SHA-1' }, { ciphers: `${AEAD}:@SECLEVEL=0` }));
  expect(results.key_strength).toMatchObject({
    ok: false,
    detail: 'the server certificate is signed with ecdsa-with-SHA1',
  });
});

test.each([
  ['a SAML entry with the eIDAS attribute preset: its SSO location', 'saml'],
  ['a SAML entry with a metadata file: the SSO location the file names', 'saml-metadata'],
  ['a Smart-ID entry with a plain-http OCSP responder: its RP API', 'smartid'],
])('only what the gateway or the browser reaches is probed, %s', async (_, kind) => {
  const port = await provider({}, { requestCert: false, rejectUnauthorized: false });
  const dir = mkdtempSync(join(tmpdir(), 'vpm-probe-kind-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.cert);
  const at = `https://127.0.0.1:${port}`;
  const metadataFile = join(dir, 'idp-metadata.xml');
  if (kind === 'saml-metadata') {
    const key = await issueCertificate(ca, { commonName: 'idp', usage: 'server', key: { type: 'rsa', bits: 2048 } });
    const keyPair = { key: key.key, cert: key.cert };
    writeFileSync(
      metadataFile,
      idpMetadata({ entityId: 'https://idp.example.eu/metadata', ssoUrl: `${at}/sso`, key: keyPair }, { sign: false }),
    );
  }
  const raw =
    kind === 'saml-metadata'
      ? { ...SAML_TEST_ENTRY, idp_metadata: metadataFile, attributes: 'eidas', tls: { ca: caFile } }
      : kind === 'saml'
        ? {
            ...SAML_TEST_ENTRY,
            // attribute names, the entity ID and the eIDAS extensions are http(s) URIs that are not addresses
            idp: { entity_id: 'https://idp.example.eu/metadata', sso_url: `${at}/sso`, certificates: [caFile] },
            attributes: 'eidas',
            tls: { ca: caFile },
          }
        : {
            ...SMARTID_TEST_ENTRY,
            url: `${at}/v3/`,
            ca_certificates: [caFile],
            ocsp: { url: 'http://ocsp.example.eu/', required: false },
            tls: { ca: caFile },
          };
  const factory = ADAPTER_FACTORIES.get(kind.startsWith('saml') ? 'saml' : kind)!;
  const security = { cert_expiry_warning_days: 30 };
  const report = await probeProvider({ security, audit: { dir } } as unknown as GatewayConfig, {
    factory,
    config: factory.schema.parse(raw),
  });
  expect(report.endpoints.map((e) => [e.url, e.ok])).toEqual([[at, true]]);
  rmSync(dir, { recursive: true, force: true });
});

test('a SAML entry with metadata_url: the metadata host, and the SSO location the fetched metadata names', async () => {
  const sso = await provider({}, { requestCert: false, rejectUnauthorized: false });
  const ssoAt = `https://127.0.0.1:${sso}`;
  const idpKey = await issueCertificate(ca, { commonName: 'idp', usage: 'server', key: { type: 'rsa', bits: 2048 } });
  const xml = idpMetadata({ entityId: 'https://idp.example.eu/metadata', ssoUrl: `${ssoAt}/sso`, key: idpKey });
  // the metadata host is a back channel: it answers the gateway's client certificate only
  const metaAt = `https://127.0.0.1:${await provider({}, {}, xml)}`;
  const dir = mkdtempSync(join(tmpdir(), 'vpm-probe-metadata-'));
  const files = {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'client.pem'),
    key: join(dir, 'client.key'),
    signer: join(dir, 'signer.pem'),
  };
  writeFileSync(files.ca, ca.cert);
  writeFileSync(files.cert, client.cert);
  writeFileSync(files.key, client.key);
  writeFileSync(files.signer, idpKey.cert);
  const factory = ADAPTER_FACTORIES.get('saml')!;
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    metadata_url: `${metaAt}/metadata`,
    metadata_signing_certificates: [files.signer],
    attributes: 'eidas',
    tls: { ca: files.ca, cert: files.cert, key: files.key },
  });
  const report = await probeProvider(
    { security: { cert_expiry_warning_days: 30 }, audit: { dir } } as unknown as GatewayConfig,
    {
      factory,
      config,
    },
  );
  expect(report.published.documents).toMatchObject([
    { kind: 'saml-metadata', locations: [`${ssoAt}/sso`, `${ssoAt}/sso`] },
  ]);
  expect(report.endpoints.map((e) => [e.url, e.ok])).toEqual([
    [metaAt, true],
    [ssoAt, true],
  ]);
  expect(report.endpoints[1]!.checks.at(-1)?.detail).toContain('reached by the browser');
  rmSync(dir, { recursive: true, force: true });
});

describe('vpm-gateway providers probe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-joining-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setUp(port: number) {
    const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, client.cert);
    writeFileSync(files.key, client.key);
    const entry = productionOidcEntry(files, { id: 'eid-x', issuer: `https://127.0.0.1:${port}` });
    const { onboarding: _, ...governed } = entry;
    const registry = writeRegistry(join(dir, `registry-${port}`), [record('eid-x', 'development')]);
    const config = join(dir, `gateway-${port}.yaml`);
    const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [governed], registry: { dir: registry }, audit }),
    );
    return { registry, config };
  }

  test('a passing report is stored with the record and opens the way to testing', async () => {
    const { registry, config } = await setUp(await provider());
    const r = await runCli(['providers', 'probe', 'eid-x', '-c', config, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ provider: 'eid-x', ok: true, material: { ok: true }, audit: { ok: true } });
    expect(report.endpoints).toHaveLength(1);
    const stored = parse((await import('node:fs')).readFileSync(join(registry, 'eid-x.yaml'), 'utf8'));
    expect(stored.probe).toMatchObject({ ok: true, at: report.at });
    expect(stored.revision).toBe(6);
    const moved = await runCli([
      'providers',
      'transition',
      'eid-x',
      'testing',
      '-c',
      config,
      '--reason',
      'probe passed',
    ]);
    expect(moved.code).toBe(0);
  });

  test('a key or certificate file not there yet is named with its entry path, not as a bare ENOENT', async () => {
    const { config } = await setUp(await provider());
    const caFile = join(dir, 'ca.pem');
    rmSync(caFile);
    try {
      const r = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `providers probe: eid-x: tls.ca: cannot read file ${caFile} (ENOENT): nothing probed, nothing stored\n`,
      );
      expect(r.stderr).not.toMatch(/^vpm-gateway: ENOENT/m);
    } finally {
      writeFileSync(caFile, ca.cert);
    }
  });

  test('a failing report is stored too, printed for people, and testing stays closed', async () => {
    const { config } = await setUp(await provider({}, { requestCert: false, rejectUnauthorized: false }));
    const r = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('security probe FAILED');
    expect(r.stdout).toMatch(/FAIL mutual_auth\s+serves a connection without a client certificate/);
    const moved = await runCli(['providers', 'transition', 'eid-x', 'testing', '-c', config, '--reason', 'try']);
    expect(moved).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('probe: testing needs a passing security probe'),
    });
  });
});

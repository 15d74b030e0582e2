// The security probe against real TLS servers, each failing one VPM security check in turn: TLS 1.0/1.1
// only, a CBC suite, an expired chain, no client certificate demanded, an RSA-1024 key, a SHA-1
// signature; a server meeting them all; and which endpoints of an entry are probed (./probe-endpoints.ts).
// The operator's command, whose passing report lets the provider into testing: ./probe-cli.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeEndpoint } from '../../src/onboarding/probe/checks.ts';
import { issueCertificate } from '../../src/tls/pki.ts';
import { SAML_TEST_ENTRY, SMARTID_TEST_ENTRY } from '../support/provider-entries.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { idpMetadata } from '../../providers/saml/test-idp/metadata.ts';
import { probeProvider } from '../../src/onboarding/probe/probe.ts';
import type { GatewayConfig } from '../../src/config/load.ts';
import { AEAD, pki, useProbeCa, provider, probe, failing } from './probe-endpoints.ts';

const DAY = 86_400_000;

useProbeCa();

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
    { ca: pki.ca.cert, warningDays: 30, backChannel: false },
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
  writeFileSync(caFile, pki.ca.cert);
  const at = `https://127.0.0.1:${port}`;
  const metadataFile = join(dir, 'idp-metadata.xml');
  if (kind === 'saml-metadata') {
    const key = await issueCertificate(pki.ca, {
      commonName: 'idp',
      usage: 'server',
      key: { type: 'rsa', bits: 2048 },
    });
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
  const idpKey = await issueCertificate(pki.ca, {
    commonName: 'idp',
    usage: 'server',
    key: { type: 'rsa', bits: 2048 },
  });
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
  writeFileSync(files.ca, pki.ca.cert);
  writeFileSync(files.cert, pki.client.cert);
  writeFileSync(files.key, pki.client.key);
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

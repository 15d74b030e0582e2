// The probe's check of what a provider publishes, fetched live over its mutual-TLS back channel: the
// test OP's discovery and JWKS pass; an OP publishing an RSA-1024 key, an HS256 key or offering HS256 or
// `none` for ID tokens fails; SAML IdP metadata with an RSA-1024/SHA-1 signing certificate, or signed
// with RSA-SHA1, or unsigned, fails; the test IdP's own metadata passes.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignedXml } from 'xml-crypto';
import { parse, stringify } from 'yaml';
import { factory as oidc } from '../../providers/oidc/index.ts';
import { startTestOp, type TestOp } from '../../providers/oidc/test-op/index.ts';
import { factory as saml } from '../../providers/saml/index.ts';
import { idpMetadata } from '../../providers/saml/test-idp/metadata.ts';
import type { ProviderEntry } from '../../src/config/load.ts';
import { probePublished } from '../../src/onboarding/probe/published.ts';
import { runCli } from '../support/cli.ts';
import { productionOidcEntry } from '../support/provider-entries.ts';
import { record, writeRegistry } from './fixtures.ts';
import { createCa, type CertificateAuthority, type IssuedCertificate, issueCertificate } from '../../src/tls/pki.ts';

const AEAD = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';

let dir: string;
let ca: CertificateAuthority;
let client: IssuedCertificate;
let tlsFiles: { ca: string; cert: string; key: string };
let op: TestOp;
const servers: https.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-probe-published-'));
  ca = await createCa({ commonName: 'Published probe CA' });
  client = await issueCertificate(ca, { commonName: 'vpm-gateway', usage: 'client' });
  tlsFiles = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
  writeFileSync(tlsFiles.ca, ca.cert);
  writeFileSync(tlsFiles.cert, client.cert);
  writeFileSync(tlsFiles.key, client.key);
  op = await startTestOp({});
});
afterAll(async () => {
  await op.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

/** An HTTPS provider demanding the gateway's client certificate and serving `documents` by path. */
async function publisher(documents: (base: string) => Record<string, { type: string; body: string }>) {
  const cert = await issueCertificate(ca, { commonName: 'provider', usage: 'server', ipAddresses: ['127.0.0.1'] });
  let base = '';
  const server = https.createServer(
    { key: cert.key, cert: cert.cert, ca: ca.cert, requestCert: true, rejectUnauthorized: true, ciphers: AEAD },
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

const json = (value: unknown) => ({ type: 'application/json', body: JSON.stringify(value) });
const rsaJwk = (bits: number, kid: string) => ({
  ...generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
  alg: 'RS256',
});
const ecJwk = (namedCurve: string, kid: string) => ({
  ...generateKeyPairSync('ec', { namedCurve }).publicKey.export({ format: 'jwk' }),
  kid,
});

function oidcEntry(issuer: string, tls: object = tlsFiles, extra: object = {}): ProviderEntry {
  return { factory: oidc, config: { id: 'eid-x', type: 'oidc', issuer, tls, ...extra } } as unknown as ProviderEntry;
}

/** An OP at its issuer URL: discovery as OpenID Connect Discovery 1.0 publishes it, and its JWKS. */
function opDocuments(keys: object[], algs = ['RS256', 'ES256']) {
  return (base: string) => ({
    '/.well-known/openid-configuration': json({
      issuer: base,
      jwks_uri: `${base}/jwks`,
      id_token_signing_alg_values_supported: algs,
    }),
    '/jwks': json({ keys }),
  });
}

describe('an OpenID Provider', () => {
  test("the test OP's discovery and JWKS are strong", async () => {
    const docs = await probePublished(oidcEntry(op.issuer, op.tls!));
    expect(docs.map((d) => [d.kind, d.ok, d.problems])).toEqual([
      ['openid-configuration', true, []],
      ['jwks', true, []],
    ]);
    expect(docs[0]!.url).toBe(`${op.issuer}/.well-known/openid-configuration`);
  });

  test('a strong key set beside an RSA-1024 key fails on that key alone', async () => {
    const issuer = await publisher(opDocuments([rsaJwk(2048, 'good'), ecJwk('P-256', 'ec'), rsaJwk(1024, 'old')]));
    const docs = await probePublished(oidcEntry(issuer));
    expect(docs.map((d) => [d.kind, d.ok])).toEqual([
      ['openid-configuration', true],
      ['jwks', false],
    ]);
    expect(docs[1]!.problems).toEqual(['key old is RSA of 1024 bits (at least 2048)']);
  });

  test('a JWKS beyond a megabyte is named as such, not read whole', async () => {
    const padding = { kty: 'oct', kid: 'x'.repeat(1_100_000) };
    const issuer = await publisher(opDocuments([rsaJwk(2048, 'good'), padding]));
    const [discovery, jwks] = await probePublished(oidcEntry(issuer));
    expect(discovery!.ok).toBe(true);
    expect([jwks!.ok, jwks!.problems.join()]).toEqual([false, expect.stringContaining('more than 1000000 bytes')]);
  });

  test('a symmetric HS256 key, an EC key on a weak curve', async () => {
    const hs = { kty: 'oct', kid: 'shared', alg: 'HS256', k: 'c2VjcmV0' };
    const issuer = await publisher(opDocuments([hs, ecJwk('secp256k1', 'k1')]));
    const [, jwks] = await probePublished(oidcEntry(issuer));
    expect(jwks!.problems).toEqual([
      'key shared is for HS256',
      'key shared is a symmetric (oct) key',
      'key k1 is on curve secp256k1 (P-256 or stronger)',
    ]);
  });

  test('HS256 or none offered for ID tokens in discovery', async () => {
    const issuer = await publisher(opDocuments([rsaJwk(2048, 'good')], ['RS256', 'HS256', 'none']));
    const [discovery, jwks] = await probePublished(oidcEntry(issuer));
    expect(discovery).toMatchObject({
      ok: false,
      problems: ['id_token_signing_alg_values_supported offers HS256, none'],
    });
    expect(jwks!.ok).toBe(true);
  });

  test('a pinned jwks_uri in static metadata is fetched as well', async () => {
    const issuer = await publisher(opDocuments([rsaJwk(1024, 'weak')]));
    const docs = await probePublished(oidcEntry(issuer, tlsFiles, { metadata: { jwks_uri: `${issuer}/jwks` } }));
    expect(docs.filter((d) => d.kind === 'jwks').map((d) => d.ok)).toEqual([false, false]);
  });

  test('without the gateway client certificate nothing is published: the probe fails closed', async () => {
    const issuer = await publisher(opDocuments([rsaJwk(2048, 'good')]));
    const docs = await probePublished(oidcEntry(issuer, { ca: tlsFiles.ca }));
    expect(docs).toEqual([
      { url: issuer, kind: 'unreachable', ok: false, problems: [expect.stringMatching(/^cannot fetch/)] },
    ]);
  });
});

describe('a SAML IdP', () => {
  const samlEntry = (metadataUrl: string): ProviderEntry =>
    ({
      factory: saml,
      config: { id: 'eidas-x', type: 'saml', metadata_url: metadataUrl, tls: tlsFiles },
    }) as unknown as ProviderEntry;
  const xml = (body: string) => ({ type: 'application/samlmetadata+xml', body });

  async function metadataAt(body: string) {
    const base = await publisher(() => ({ '/metadata': xml(body) }));
    return probePublished(samlEntry(`${base}/metadata`));
  }

  test("the test IdP's signed metadata is strong", async () => {
    const key = await createCa({ commonName: 'idp', key: { type: 'rsa', bits: 2048 } });
    const docs = await metadataAt(
      idpMetadata({ entityId: 'https://idp.example', ssoUrl: 'https://idp.example/sso', key }),
    );
    // its SSO locations (one per binding) are where the probe goes next, as a browser would
    expect(docs).toEqual([
      {
        url: expect.stringMatching(/\/metadata$/),
        kind: 'saml-metadata',
        ok: true,
        problems: [],
        locations: ['https://idp.example/sso', 'https://idp.example/sso'],
      },
    ]);
  });

  test('an RSA-1024 signing certificate signed with SHA-1', async () => {
    const key = await createCa({ commonName: 'idp', key: { type: 'rsa', bits: 1024 }, hash: 'SHA-1' });
    const [doc] = await metadataAt(
      idpMetadata({ entityId: 'https://idp.example', ssoUrl: 'https://idp.example/sso', key }),
    );
    expect(doc).toMatchObject({ kind: 'saml-metadata', ok: false });
    expect(doc!.problems).toEqual([
      'signing certificate 1 has an RSA key of 1024 bits (at least 2048)',
      'signing certificate 1 is signed with sha1WithRSAEncryption',
    ]);
  });

  test('metadata signed with RSA-SHA1, and unsigned metadata', async () => {
    const key = await createCa({ commonName: 'idp', key: { type: 'rsa', bits: 2048 } });
    const unsigned = idpMetadata(
      { entityId: 'https://idp.example', ssoUrl: 'https://idp.example/sso', key },
      { sign: false },
    );
    const sx = new SignedXml({
      privateKey: key.key,
      publicCert: key.cert,
      signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    sx.addReference({
      xpath: '/*',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
      digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1',
    });
    sx.computeSignature(unsigned, { location: { reference: '/*/*[1]', action: 'before' } });
    const [sha1] = await metadataAt(sx.getSignedXml());
    expect(sha1!.problems).toEqual([
      'the metadata is signed with http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      'the metadata is digested with http://www.w3.org/2000/09/xmldsig#sha1',
    ]);
    const [none] = await metadataAt(unsigned);
    expect(none!.problems).toEqual(['the metadata is not signed']);
  });
});

describe('vpm-gateway providers probe', () => {
  async function probeCli(issuer: string) {
    const { onboarding: _, ...entry } = productionOidcEntry(tlsFiles, { id: 'eid-x', issuer });
    const registry = writeRegistry(join(dir, `registry-${new URL(issuer).port}`), [record('eid-x', 'development')]);
    const config = join(dir, `gateway-${new URL(issuer).port}.yaml`);
    const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [entry], registry: { dir: registry }, audit }),
    );
    const human = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
    const stored = parse(readFileSync(join(registry, 'eid-x.yaml'), 'utf8'));
    return { human, stored };
  }

  test('a strong OP passes and its published documents are stored with the report', async () => {
    const { human, stored } = await probeCli(
      await publisher(opDocuments([rsaJwk(2048, 'good'), ecJwk('P-384', 'ec')])),
    );
    expect(human.stdout).toMatch(/ok {3}published {5}openid-configuration https:\/\/.*: strong/);
    expect(human.code).toBe(0);
    expect(stored.probe.ok).toBe(true);
    expect(stored.probe.report.published.documents.map((d: { kind: string }) => d.kind)).toEqual([
      'openid-configuration',
      'jwks',
    ]);
  });

  test('an RSA-1024 key in the JWKS fails the probe, and testing stays closed', async () => {
    const { human, stored } = await probeCli(await publisher(opDocuments([rsaJwk(1024, 'old')])));
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/FAIL published {5}jwks https:\/\/.*\/jwks: key old is RSA of 1024 bits/);
    expect(stored.probe).toMatchObject({ ok: false, report: { published: { ok: false } } });
    // every other level holds: the published keys alone decide
    expect(stored.probe.report.endpoints.every((e: { ok: boolean }) => e.ok)).toBe(true);
  });
});

describe('a banklink bank: what it sends is signed with its configured certificate and hash', () => {
  async function probeBank(name: string, bank: object) {
    const url = `${await publisher(() => ({ '/': { type: 'text/html', body: 'bank' } }))}/`;
    const gateway = await createCa({ commonName: 'gateway', key: { type: 'rsa', bits: 2048 } });
    const files = { key: join(dir, `${name}-gateway.key`), cert: join(dir, `${name}-bank.pem`) };
    writeFileSync(files.key, gateway.key);
    const entry = {
      id: name,
      type: 'banklink',
      name: { lv: 'Banka', en: 'Bank' },
      kind: 'bank',
      loa: 'high',
      url,
      sender_id: 'VPM',
      receiver_id: 'BANK',
      private_key: files.key,
      bank_certificate: files.cert,
      tls: { ca: tlsFiles.ca },
      ...bank,
    };
    const registry = writeRegistry(join(dir, `registry-${name}`), [record(name, 'development')]);
    const config = join(dir, `gateway-${name}.yaml`);
    const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [entry], registry: { dir: registry }, audit }),
    );
    return { config, files };
  }

  test('a legacy VK_VERSION 008 bank signs with SHA-1: accepted as production accepts it, and said so', async () => {
    const { config, files } = await probeBank('legacy-bank', { version: '008', legacy: true });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 2048 } })).cert);
    const r = await runCli(['providers', 'probe', 'legacy-bank', '-c', config, '--json']);
    const report = JSON.parse(r.stdout);
    expect(report.material).toEqual({
      ok: true,
      problems: [],
      notes: [
        expect.stringContaining('SHA-1 is a weak algorithm, accepted only because this provider is marked legacy'),
      ],
    });
    expect(report.published.documents).toEqual([]);
    expect(r.code).toBe(0);
  });

  test('an RSA-1024 bank certificate fails, legacy or not', async () => {
    const { config, files } = await probeBank('old-bank', { version: '008', legacy: true });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 1024 } })).cert);
    const r = await runCli(['providers', 'probe', 'old-bank', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL material +bank_certificate: RSA key of certificate CN=bank of 1024 bits/);
  });

  test('SHA-1 without legacy: true is refused before any probe', async () => {
    const { config, files } = await probeBank('sha1-bank', { hash: 'sha1' });
    writeFileSync(files.cert, (await createCa({ commonName: 'bank', key: { type: 'rsa', bits: 2048 } })).cert);
    const r = await runCli(['providers', 'probe', 'sha1-bank', '-c', config]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('only accepted for a bank marked legacy: true');
  });
});

// The IdP from SAML metadata: a file (`idp_metadata`) or a URL (`metadata_url`, fetched through the
// provider's own transport, mutual TLS included). Real signed metadata from the test IdP, real TLS.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory.ts';
import { memoryLogger } from '../../src/logger.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { ProviderError } from '../../src/broker/adapter.ts';
import { checkSecurity } from '../../src/tls/security-checks.ts';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { factory, type SamlAdapter, type SamlProviderConfig } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { MetadataError, parseIdpMetadata } from './idp-metadata.ts';
import { MetadataIdpSource, fileLoader } from './idp-source.ts';
import {
  createTestIdp,
  parseForm,
  signMetadata,
  startTestIdp,
  type RunningTestIdp,
  type TestIdp,
} from './test-idp/index.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';

const BASE = 'https://gateway.test';
const ACS = `${BASE}/broker/callback/eidas`;
/** the start every login of these tests makes */
const START = {
  browser: TEST_BROWSER_DIGEST,
  state: 'S'.repeat(27),
  callbackUrl: ACS,
  locale: 'en',
  correlationId: 'c',
} as const;
const HOUR = 3_600_000;
const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

let dir: string;
let idpKey: KeyPair;
let otherKey: KeyPair;
/** never served: used for its metadata only */
let paper: TestIdp;
const closers: (() => Promise<void>)[] = [];

const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-metadata-'));
  [idpKey, otherKey] = await Promise.all([generateKeyPair('idp.test'), generateKeyPair('other')]);
  paper = await createTestIdp({
    baseUrl: 'https://idp.test',
    key: idpKey,
    sp: { entityId: 'unused', signingCert: idpKey.cert },
  });
});
afterAll(async () => {
  for (const close of closers) await close();
  await rm(dir, { recursive: true, force: true });
});

const parse = (xml: string, o: Partial<Parameters<typeof parseIdpMetadata>[1]> = {}) =>
  parseIdpMetadata(xml, { requireValidUntil: false, now: Date.now(), signingCertificates: [idpKey.cert], ...o });

/** Two IdPs in an EntitiesDescriptor (the shape of a federation's or eIDAS node's aggregate). */
function aggregate(validUntil: Date): string {
  const one = paper.metadata({ sign: false }).replace(/^<\?xml[^>]*>/, '');
  const two = one.replaceAll('https://idp.test', 'https://second.test');
  const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_agg" validUntil="${validUntil.toISOString()}">${one}${two}</md:EntitiesDescriptor>`;
  return signMetadata(xml, idpKey);
}

describe('parsing and verifying IdP metadata', () => {
  test('signed metadata gives the entity ID, both SSO locations and the signing certificate', () => {
    const until = new Date(Date.now() + HOUR);
    const d = parse(paper.metadata({ validUntil: until }));
    expect(d.entityId).toBe('https://idp.test/metadata');
    expect(d.ssoUrls).toEqual({ redirect: 'https://idp.test/sso', post: 'https://idp.test/sso' });
    expect(d.certificates.map(body)).toEqual([body(idpKey.cert)]);
    expect(d.validUntil).toBe(until.getTime());
  });

  test('metadata whose validUntil has passed is refused', () => {
    expect(() => parse(paper.metadata({ validUntil: new Date(Date.now() - 1000) }))).toThrow(/metadata expired/);
  });

  test('metadata without validUntil is refused when one is required (fetched metadata)', () => {
    const xml = paper.metadata({ validUntil: null });
    expect(() => parse(xml, { requireValidUntil: true })).toThrow(/no validUntil/);
    expect(parse(xml).validUntil).toBeUndefined();
  });

  test('with signing certificates configured: unsigned, differently signed or altered metadata is refused', () => {
    expect(() => parse(paper.metadata({ sign: false }))).toThrow(/not signed/);
    expect(() => parse(paper.metadata(), { signingCertificates: [otherKey.cert] })).toThrow(/does not verify/);
    const altered = paper.metadata().replaceAll('Location="https://idp.test/sso"', 'Location="https://evil.test/sso"');
    expect(altered).toContain('evil.test');
    expect(() => parse(altered)).toThrow(/does not verify/);
    // without signing certificates the file is taken as the operator put it
    expect(parse(paper.metadata({ sign: false }), { signingCertificates: undefined }).entityId).toBe(
      'https://idp.test/metadata',
    );
  });

  test('an aggregate: the configured entity is picked; an expired outer validUntil applies to every entity inside', () => {
    expect(() => parse(aggregate(new Date(Date.now() + HOUR)))).toThrow(/several IdPs/);
    expect(
      parse(aggregate(new Date(Date.now() + HOUR)), { entityId: 'https://second.test/metadata' }).ssoUrls.post,
    ).toBe('https://second.test/sso');
    expect(() => parse(aggregate(new Date(Date.now() + HOUR)), { entityId: 'https://third.test/metadata' })).toThrow(
      /no SAML 2.0 IdP with the configured entity_id/,
    );
    // the entity's own validUntil is a day ahead, the aggregate's has passed
    expect(() => parse(aggregate(new Date(Date.now() - 1000)), { entityId: 'https://second.test/metadata' })).toThrow(
      /metadata expired/,
    );
  });

  test('DTDs, foreign roots and IdPs without a signing certificate are refused', () => {
    expect(() =>
      parse(`<!DOCTYPE x [<!ENTITY e "x">]>${paper.metadata({ sign: false })}`, { signingCertificates: undefined }),
    ).toThrow(MetadataError);
    expect(() => parse('<foo xmlns="urn:x"/>', { signingCertificates: undefined })).toThrow(/neither EntityDescriptor/);
    const noKey = paper.metadata({ sign: false }).replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, '');
    expect(() => parse(noKey, { signingCertificates: undefined })).toThrow(/no signing certificate/);
  });
});

describe('the metadata source over time', () => {
  const t0 = Date.now();
  const source = (path: string) =>
    new MetadataIdpSource({
      origin: path,
      load: fileLoader(path),
      binding: 'post',
      refreshMs: HOUR,
      requireValidUntil: false,
      signingCertificates: [idpKey.cert],
      logger: memoryLogger(),
    });

  test('logins fail closed once validUntil passes and no valid replacement is found', async () => {
    const path = await file('expiring.xml', paper.metadata({ validUntil: new Date(t0 + 2 * HOUR) }));
    const s = source(path);
    await s.load(t0);
    await expect(s.current(t0 + HOUR / 2)).resolves.toMatchObject({ entityId: 'https://idp.test/metadata' });
    const err = await s.current(t0 + 3 * HOUR).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('temporarily_unavailable');
    expect((err as ProviderError).detail).toMatch(/expired/);
  });

  test('a replaced file is picked up at the next refresh; a broken one keeps the last good metadata', async () => {
    const path = await file('rolling.xml', paper.metadata({ validUntil: new Date(t0 + 24 * HOUR) }));
    const s = source(path);
    await s.load(t0);
    const rolled = await createTestIdp({
      baseUrl: 'https://idp.test',
      key: otherKey,
      sp: { entityId: 'unused', signingCert: otherKey.cert },
    });
    // new signing certificate, metadata still signed by the metadata key
    await writeFile(path, signMetadata(rolled.metadata({ sign: false, validUntil: new Date(t0 + 24 * HOUR) }), idpKey));
    expect((await s.current(t0 + HOUR / 2)).certificates.map(body)).toEqual([body(idpKey.cert)]);
    // the refresh that is due runs in the background: this login goes on with the metadata still valid
    expect((await s.current(t0 + HOUR)).certificates.map(body)).toEqual([body(idpKey.cert)]);
    await s.settled();
    expect((await s.current(t0 + HOUR)).certificates.map(body)).toEqual([body(otherKey.cert)]);
    await writeFile(path, '<broken');
    expect((await s.current(t0 + 2 * HOUR + 1)).certificates.map(body)).toEqual([body(otherKey.cert)]);
    await s.settled();
    expect((await s.current(t0 + 2 * HOUR + 1)).certificates.map(body)).toEqual([body(otherKey.cert)]);
  });

  test('in production a refresh whose SSO locations turned http is refused and the last good metadata kept', async () => {
    const path = await file('turning-http.xml', paper.metadata({ validUntil: new Date(t0 + 24 * HOUR) }));
    const logger = memoryLogger();
    const s = new MetadataIdpSource({
      origin: path,
      load: fileLoader(path),
      binding: 'post',
      refreshMs: HOUR,
      requireValidUntil: false,
      signingCertificates: [idpKey.cert],
      logger,
      production: true,
    });
    await s.load(t0);
    const plain = await createTestIdp({
      baseUrl: 'http://idp.test',
      key: idpKey,
      sp: { entityId: 'unused', signingCert: idpKey.cert },
    });
    await writeFile(path, plain.metadata({ validUntil: new Date(t0 + 24 * HOUR) }));
    await s.current(t0 + HOUR);
    await s.settled();
    const current = await s.current(t0 + HOUR);
    expect(Object.values(current.ssoUrls).every((u) => u?.startsWith('https://idp.test/'))).toBe(true);
    expect(logger.lines.join('\n')).toContain('its SingleSignOnService locations must be https in production');
  });

  test('metadata lacking the SSO location for the configured binding is refused', async () => {
    const xml = signMetadata(
      paper
        .metadata({ sign: false })
        .replace(/<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*\/>/, ''),
      idpKey,
    );
    await expect(source(await file('redirect-only.xml', xml)).load()).rejects.toThrow(
      /no SingleSignOnService for the HTTP-POST binding/,
    );
  });
});

describe('the adapter with its IdP from metadata', () => {
  const entry = (extra: Record<string, unknown>) => ({
    ...SAML_TEST_ENTRY,
    ...extra,
  });
  const logger = memoryLogger();
  const create = async (extra: Record<string, unknown>) => {
    const store = new MemoryStore();
    const adapter = (await factory.create(
      factory.schema.parse(entry(extra)),
      adapterDeps(join(dir, 'keys'), { baseUrl: BASE, store, logger }),
    )) as SamlAdapter;
    closers.push(async () => {
      await adapter.close();
      await store.close();
    });
    return adapter;
  };

  let idp: RunningTestIdp;
  let adapter: SamlAdapter | undefined;
  beforeAll(async () => {
    idp = await startTestIdp({
      key: idpKey,
      loa: 'high',
      sp: () => ({
        entityId: adapter!.spEntityId,
        signingCert: adapter!.certificates.signing,
        encryptionCert: adapter!.certificates.encryption,
        acsUrl: ACS,
      }),
    });
    closers.push(() => idp.close());
  });

  async function login(a: SamlAdapter) {
    adapter = a;
    const loginStartedAt = Date.now();
    const started = await a.start(START);
    const page = await fetch(
      started.action.url,
      started.action.type === 'form' ? { method: 'POST', body: new URLSearchParams(started.action.fields) } : {},
    );
    const form = parseForm(await page.text());
    const answer = parseForm(
      await (
        await fetch(form.action, {
          method: 'POST',
          body: new URLSearchParams({ ...form.fields, user: '0', action: 'login' }),
        })
      ).text(),
    );
    return a.callback({
      params: answer.fields,
      method: 'POST',
      connData: started.connData,
      callbackUrl: ACS,
      correlationId: 'c',
      loginStartedAt,
    });
  }

  test('idp_metadata: a login against the IdP the metadata file describes', async () => {
    const path = await file('idp.xml', idp.metadata());
    const a = await create({
      idp_metadata: path,
      metadata_signing_certificates: [await file('meta-signer.pem', idpKey.cert)],
      binding: 'post',
    });
    await expect(login(a)).resolves.toMatchObject({ identity: { personalCode: '010180-15097', loa: 'high' } });
  });

  test('idp_metadata: an expired file, or one that does not describe the configured entity_id, stops the start', async () => {
    const expired = await file('expired.xml', idp.metadata({ validUntil: new Date(Date.now() - 1000) }));
    await expect(create({ idp_metadata: expired })).rejects.toThrow(
      `provider eidas: idp_metadata: ${expired}: metadata expired`,
    );
    const path = await file('idp2.xml', idp.metadata());
    await expect(create({ idp_metadata: path, idp: { entity_id: 'https://someone-else.test' } })).rejects.toThrow(
      /configured entity_id/,
    );
  });

  test('metadata_url: fetched through the provider transport, its signature checked, and used for a login', async () => {
    const a = await create({
      metadata_url: idp.metadataUrl,
      metadata_signing_certificates: [await file('meta-signer2.pem', idpKey.cert)],
    });
    await expect(login(a)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  test('metadata_url signed by someone else: the gateway starts, logins fail closed', async () => {
    const a = await create({
      metadata_url: idp.metadataUrl,
      metadata_signing_certificates: [await file('other.pem', otherKey.cert)],
    });
    expect(
      logger.lines.some((l) => l.includes('could not be loaded at startup') && l.includes('does not verify')),
    ).toBe(true);
    await expect(a.start(START)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
  });

  describe('over mutual TLS (the provider `tls` block)', () => {
    let server: Server;
    let url: string;
    let tlsFiles: { ca: string; cert: string; key: string };
    let strangerFiles: { ca: string; cert: string; key: string };
    beforeAll(async () => {
      const ca = await createCa({ commonName: 'IdP metadata CA' });
      const srv = await issueCertificate(ca, { commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
      const client = await issueCertificate(ca, { commonName: 'vpm-gateway', usage: 'client' });
      const strangerCa = await createCa({ commonName: 'stranger CA' });
      const stranger = await issueCertificate(strangerCa, { commonName: 'vpm-gateway', usage: 'client' });
      tlsFiles = {
        ca: await file('mtls-ca.pem', ca.cert),
        cert: await file('mtls-client.pem', client.cert),
        key: await file('mtls-client.key', client.key),
      };
      strangerFiles = {
        ca: tlsFiles.ca,
        cert: await file('stranger.pem', stranger.cert),
        key: await file('stranger.key', stranger.key),
      };
      // the metadata endpoint insists on a client certificate from its CA
      server = createServer(
        { cert: srv.cert, key: srv.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
        (_req, res) => {
          res.setHeader('content-type', 'application/samlmetadata+xml');
          res.end(idp.metadata());
        },
      );
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
      closers.push(() => new Promise((ok) => server.close(() => ok())));
    });

    test('with the gateway client certificate the metadata loads and a login works', async () => {
      const a = await create({
        metadata_url: url,
        metadata_signing_certificates: [await file('meta-signer3.pem', idpKey.cert)],
        tls: tlsFiles,
      });
      await expect(login(a)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
    });

    test('without the right client certificate, or without the provider CA, nothing loads', async () => {
      for (const tls of [strangerFiles, undefined]) {
        const a = await create({
          metadata_url: url,
          metadata_signing_certificates: [await file('meta-signer4.pem', idpKey.cert)],
          ...(tls ? { tls } : {}),
        });
        await expect(a.start(START)).rejects.toMatchObject({ code: 'temporarily_unavailable' });
      }
    });
  });

  test('configuration: one IdP source, and the metadata is the only source of what it describes', () => {
    const problems = (extra: Record<string, unknown>) => {
      const r = factory.schema.safeParse(entry(extra));
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    const pem = import.meta.filename;
    expect(problems({})).toEqual(['idp: configure the IdP (entity_id, sso_url, certificates) or give idp_metadata']);
    expect(problems({ idp: { entity_id: 'x' } })).toEqual([
      'idp.sso_url: required without idp_metadata or metadata_url',
      'idp.certificates: required without idp_metadata or metadata_url',
    ]);
    expect(
      problems({ idp_metadata: pem, metadata_url: 'https://idp.test/md', metadata_signing_certificates: [pem] }),
    ).toEqual(['metadata_url: give either idp_metadata or metadata_url, not both']);
    expect(problems({ idp_metadata: pem, idp: { sso_url: 'https://idp.test/sso' } })).toEqual([
      'idp.sso_url: comes from the IdP metadata; remove it',
    ]);
    expect(problems({ metadata_url: 'https://idp.test/md' })).toEqual([
      'metadata_signing_certificates: metadata fetched from metadata_url must be signed: name its signing certificate(s)',
    ]);
    expect(problems({ idp_metadata: join(dir, 'missing.xml') })[0]).toMatch(/^idp_metadata: cannot read file/);
  });

  test('the startup security check treats metadata_url as a back channel that needs mutual TLS in production', () => {
    const report = checkSecurity(
      {
        production: true,
        providers: [entry({ metadata_url: 'https://idp.test/md' }), entry({ idp_metadata: 'x.xml' })].map((config) => ({
          factory,
          config: config as SamlProviderConfig,
        })),
      },
      { readFile: () => Buffer.from('') },
    );
    expect(report.errors).toContain('providers[0].tls: a provider with a back channel needs mutual TLS in production');
    expect(report.errors.some((e) => e.startsWith('providers[1].tls'))).toBe(false);
  });
});

// The SAML adapter with its IdP from metadata: a file (`idp_metadata`) or a URL (`metadata_url`, fetched
// through the provider's own transport, mutual TLS included), its configuration and startup security
// check. Real signed metadata from the test IdP, real TLS (./test-metadata-files.ts).
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory.ts';
import { memoryLogger } from '../../src/logger.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { checkSecurity } from '../../src/tls/security-checks.ts';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { factory, type SamlAdapter, type SamlProviderConfig } from './index.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from './test-idp/index.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { fixture, closers, useMetadataFixture, file, BASE, ACS, START } from './test-metadata-files.ts';

useMetadataFixture();

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
      adapterDeps(join(fixture.dir, 'keys'), { baseUrl: BASE, store, logger }),
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
      key: fixture.idpKey,
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
      authenticatedNotBefore: undefined,
    });
  }

  test('idp_metadata: a login against the IdP the metadata file describes', async () => {
    const path = await file('idp.xml', idp.metadata());
    const a = await create({
      idp_metadata: path,
      metadata_signing_certificates: [await file('meta-signer.pem', fixture.idpKey.cert)],
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
      metadata_signing_certificates: [await file('meta-signer2.pem', fixture.idpKey.cert)],
    });
    await expect(login(a)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  test('metadata_url signed by someone else: the gateway starts, logins fail closed', async () => {
    const a = await create({
      metadata_url: idp.metadataUrl,
      metadata_signing_certificates: [await file('other.pem', fixture.otherKey.cert)],
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
        metadata_signing_certificates: [await file('meta-signer3.pem', fixture.idpKey.cert)],
        tls: tlsFiles,
      });
      await expect(login(a)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
    });

    test('without the right client certificate, or without the provider CA, nothing loads', async () => {
      for (const tls of [strangerFiles, undefined]) {
        const a = await create({
          metadata_url: url,
          metadata_signing_certificates: [await file('meta-signer4.pem', fixture.idpKey.cert)],
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
    expect(problems({ idp_metadata: join(fixture.dir, 'missing.xml') })[0]).toMatch(/^idp_metadata: cannot read file/);
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

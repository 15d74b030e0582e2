// Signing certificates named by IdP metadata meet the key checks that certificates configured in
// idp.certificates meet at startup (src/tls/material-checks.ts): in production an RSA-1024 or expired
// one stops the start when it is in the idp_metadata file, and a refresh that brings one keeps the last
// good metadata; development logs it, as it does for configured ones. Real keys, real signed metadata.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { jest } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logger.ts';
import { checkSecurity } from '../../src/tls/security-checks.ts';
import { createCa } from '../../src/tls/pki.ts';
import type { ProviderAdapter, ProviderError } from '../../src/broker/adapter.ts';
import { newState } from '../../src/login/login-state.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { setClock } from '../../test/support/clock.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { checkSaml } from './check.ts';
import { MetadataIdpSource, fileLoader } from './idp-source.ts';
import { factory, type SamlProviderConfig } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { idpMetadata, signMetadata } from './test-idp/metadata.ts';

const IDP = 'https://idp.test/metadata';
const SSO = 'https://idp.test/sso';
const HOUR = 3_600_000;
const WEAK = 'RSA key of certificate CN=weak idp of 1024 bits; at least 2048 are required';
const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');

let dir: string;
let good: KeyPair;
let weak: KeyPair;
let expired: KeyPair;
/** signs the metadata documents; never a response signer */
let metaSigner: KeyPair;
let sp: Record<string, { key: string; cert: string }>;

const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};
/** metadata naming `key` as the IdP's signing certificate, signed by the metadata signer */
const metadataNaming = (key: KeyPair) =>
  signMetadata(idpMetadata({ entityId: IDP, ssoUrl: SSO, key }, { sign: false }), metaSigner);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-metadata-keys-'));
  const [weakCa, expiredCa] = await Promise.all([
    createCa({ commonName: 'weak idp', key: { type: 'rsa', bits: 1024 } }),
    createCa({
      commonName: 'expired idp',
      key: { type: 'rsa', bits: 2048 },
      notBefore: new Date(Date.now() - 400 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    }),
  ]);
  weak = { key: weakCa.key, cert: weakCa.cert };
  expired = { key: expiredCa.key, cert: expiredCa.cert };
  const [g, m, signing, encryption] = await Promise.all(
    ['idp.test', 'metadata signer', 'sp signing', 'sp encryption'].map((cn) => generateKeyPair(cn)),
  );
  [good, metaSigner] = [g!, m!];
  // production refuses generated SP keys, so these are configured
  sp = {};
  for (const [name, pair] of Object.entries({ signing: signing!, encryption: encryption! }))
    sp[name] = { key: await file(`sp-${name}.key`, pair.key), cert: await file(`sp-${name}.crt`, pair.cert) };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (idpMetadataFile: string) =>
  factory.schema.parse({
    ...SAML_TEST_ENTRY,
    idp_metadata: idpMetadataFile,
    metadata_signing_certificates: [join(dir, 'meta-signer.pem')],
    sp,
  }) as SamlProviderConfig;

test('production: an RSA-1024 signing certificate stops the start from an idp_metadata file, as from idp.certificates', async () => {
  await file('meta-signer.pem', metaSigner.cert);
  const configured = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    idp: { entity_id: IDP, sso_url: SSO, certificates: [await file('weak.pem', weak.cert)] },
  });
  const report = checkSecurity({ production: true, providers: [{ factory, config: configured }] }, {});
  expect(report.errors).toContain(`providers[0].idp.certificates[0]: ${WEAK}`);

  const path = await file('weak-idp.xml', metadataNaming(weak));
  const config = entry(path);
  const deps = { ...adapterDeps(join(dir, 'keys')), production: true };
  await expect(factory.create(config, deps)).rejects.toThrow(
    `provider eidas: idp_metadata: ${path}: signing certificate 1: ${WEAK}`,
  );
  // `config check` refuses what the start would
  expect(await checkSaml(config, { production: true, baseUrl: deps.baseUrl })).toEqual([
    { path: ['idp_metadata'], message: `${path}: signing certificate 1: ${WEAK}` },
  ]);
});

test('production: an expired signing certificate in the metadata file stops the start', async () => {
  await file('meta-signer.pem', metaSigner.cert);
  const path = await file('expired-idp.xml', metadataNaming(expired));
  await expect(factory.create(entry(path), { ...adapterDeps(join(dir, 'keys')), production: true })).rejects.toThrow(
    new RegExp(`idp_metadata: ${path}: signing certificate 1: certificate CN=expired idp expired on`),
  );
});

test('development: the metadata file loads and the weak certificate is logged, as configured ones are reported', async () => {
  await file('meta-signer.pem', metaSigner.cert);
  const logger = memoryLogger();
  const adapter = await factory.create(
    entry(await file('weak-dev.xml', metadataNaming(weak))),
    adapterDeps(join(dir, 'keys'), { logger }),
  );
  await adapter.close?.();
  const warned = logger.lines.find((l) => l.includes('would be refused in production'));
  expect(warned).toContain(`signing certificate 1: ${WEAK}`);
});

test('production: a refresh that brings an RSA-1024 signing certificate keeps the last good metadata and logs why', async () => {
  const t0 = Date.now();
  const path = await file('rolling.xml', metadataNaming(good));
  const logger = memoryLogger();
  const source = new MetadataIdpSource({
    origin: path,
    load: fileLoader(path),
    binding: 'post',
    refreshMs: HOUR,
    requireValidUntil: false,
    signingCertificates: [metaSigner.cert],
    logger,
    production: true,
  });
  await source.load(t0);
  await writeFile(path, metadataNaming(weak));
  await source.current(t0 + HOUR);
  await source.settled();
  expect((await source.current(t0 + HOUR)).certificates.map(body)).toEqual([body(good.cert)]);
  const refused = logger.lines.find((l) => l.includes('SAML IdP metadata could not be refreshed'));
  expect(refused).toContain(`signing certificate 1: ${WEAK}`);
  expect(refused).toContain(path);
});

// A certificate valid at start that expires while the gateway runs: configured, or in metadata whose
// refreshes keep bringing it (the last good metadata is kept), production trusts it no longer.
describe('a signing certificate that expires while the gateway runs', () => {
  let soon: KeyPair;
  let expiry: number;
  beforeAll(async () => {
    const ca = await createCa({
      commonName: 'expiring idp',
      key: { type: 'rsa', bits: 2048 },
      notAfter: new Date(Date.now() + 2 * 86_400_000),
    });
    soon = { key: ca.key, cert: ca.cert };
    expiry = new X509Certificate(ca.cert).validToDate.getTime();
  });
  afterEach(() => jest.useRealTimers());

  /** The adapter's start at `at`: the AuthnRequest, or why there is none. */
  async function startAt(adapter: ProviderAdapter, at: number) {
    setClock(at);
    const state = newState();
    return adapter
      .start({ state, callbackUrl: `${IDP}/acs`, locale: 'lv', correlationId: state, browser: TEST_BROWSER_DIGEST })
      .then(
        (started) => started.action.type,
        (err: ProviderError) => err.code,
      );
  }

  test('configured in idp.certificates: production sends no login there once it has expired', async () => {
    const certificates = [await file('soon.pem', soon.cert)];
    const config = factory.schema.parse({
      ...SAML_TEST_ENTRY,
      idp: { entity_id: IDP, sso_url: SSO, certificates },
      sp,
    });
    const adapter = await factory.create(config, { ...adapterDeps(join(dir, 'keys')), production: true });
    expect(await startAt(adapter, expiry - HOUR)).toBe('redirect');
    expect(await startAt(adapter, expiry + HOUR)).toBe('temporarily_unavailable');
    await adapter.close?.();
  });

  test('in metadata whose refreshes are refused for it: the last good copy no longer serves once it has expired', async () => {
    await file('meta-signer.pem', metaSigner.cert);
    const unbounded = idpMetadata({ entityId: IDP, ssoUrl: SSO, key: soon }, { sign: false, validUntil: null });
    const path = await file('expiring.xml', signMetadata(unbounded, metaSigner));
    const adapter = await factory.create(entry(path), { ...adapterDeps(join(dir, 'keys')), production: true });
    expect(await startAt(adapter, expiry - HOUR)).toBe('redirect');
    // the last good copy is still the one in use (a refresh would refuse the expired certificate and keep it)
    expect(await startAt(adapter, expiry + HOUR)).toBe('temporarily_unavailable');
    await adapter.close?.();
  });
});

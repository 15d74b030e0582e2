// SAML IdP metadata as the gateway reads it: parsed and its signature verified (validUntil, aggregates, what
// is refused), and the metadata source over time (expiry, refreshes, a broken or http replacement). Real
// signed metadata from the test IdP (./test-metadata-files.ts).
import { writeFile } from 'node:fs/promises';
import { memoryLogger, type Logger } from '../../src/logger.ts';
import { ProviderError } from '../../src/broker/adapter.ts';
import { MetadataError, parseIdpMetadata } from './idp-metadata.ts';
import { MetadataIdpSource, fileLoader } from './idp-source.ts';
import { createTestIdp, signMetadata } from './test-idp/index.ts';
import { fixture, useMetadataFixture, file, HOUR, body } from './test-metadata-files.ts';

useMetadataFixture();

const parse = (xml: string, o: Partial<Parameters<typeof parseIdpMetadata>[1]> = {}) =>
  parseIdpMetadata(xml, {
    requireValidUntil: false,
    now: Date.now(),
    signingCertificates: [fixture.idpKey.cert],
    ...o,
  });

/** Two IdPs in an EntitiesDescriptor (the shape of a federation's or eIDAS node's aggregate). */
function aggregate(validUntil: Date): string {
  const one = fixture.paper.metadata({ sign: false }).replace(/^<\?xml[^>]*>/, '');
  const two = one.replaceAll('https://idp.test', 'https://second.test');
  const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_agg" validUntil="${validUntil.toISOString()}">${one}${two}</md:EntitiesDescriptor>`;
  return signMetadata(xml, fixture.idpKey);
}

describe('parsing and verifying IdP metadata', () => {
  test('signed metadata gives the entity ID, both SSO locations and the signing certificate', () => {
    const until = new Date(Date.now() + HOUR);
    const d = parse(fixture.paper.metadata({ validUntil: until }));
    expect(d.entityId).toBe('https://idp.test/metadata');
    expect(d.ssoUrls).toEqual({ redirect: 'https://idp.test/sso', post: 'https://idp.test/sso' });
    expect(d.certificates.map(body)).toEqual([body(fixture.idpKey.cert)]);
    expect(d.validUntil).toBe(until.getTime());
  });

  test('metadata whose validUntil has passed is refused', () => {
    expect(() => parse(fixture.paper.metadata({ validUntil: new Date(Date.now() - 1000) }))).toThrow(
      /metadata expired/,
    );
  });

  test('metadata without validUntil is refused when one is required (fetched metadata)', () => {
    const xml = fixture.paper.metadata({ validUntil: null });
    expect(() => parse(xml, { requireValidUntil: true })).toThrow(/no validUntil/);
    expect(parse(xml).validUntil).toBeUndefined();
  });

  test('with signing certificates configured: unsigned, differently signed or altered metadata is refused', () => {
    expect(() => parse(fixture.paper.metadata({ sign: false }))).toThrow(/not signed/);
    expect(() => parse(fixture.paper.metadata(), { signingCertificates: [fixture.otherKey.cert] })).toThrow(
      /does not verify/,
    );
    const altered = fixture.paper
      .metadata()
      .replaceAll('Location="https://idp.test/sso"', 'Location="https://evil.test/sso"');
    expect(altered).toContain('evil.test');
    expect(() => parse(altered)).toThrow(/does not verify/);
    // without signing certificates the file is taken as the operator put it
    expect(parse(fixture.paper.metadata({ sign: false }), { signingCertificates: undefined }).entityId).toBe(
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
      parse(`<!DOCTYPE x [<!ENTITY e "x">]>${fixture.paper.metadata({ sign: false })}`, {
        signingCertificates: undefined,
      }),
    ).toThrow(MetadataError);
    expect(() => parse('<foo xmlns="urn:x"/>', { signingCertificates: undefined })).toThrow(/neither EntityDescriptor/);
    const noKey = fixture.paper.metadata({ sign: false }).replace(/<md:KeyDescriptor[\s\S]*<\/md:KeyDescriptor>/, '');
    expect(() => parse(noKey, { signingCertificates: undefined })).toThrow(/no signing certificate/);
  });
});

describe('the metadata source over time', () => {
  const t0 = Date.now();
  const source = (path: string, options: { logger?: Logger; production?: boolean } = {}) =>
    new MetadataIdpSource({
      origin: path,
      load: fileLoader(path),
      binding: 'post',
      refreshMs: HOUR,
      requireValidUntil: false,
      signingCertificates: [fixture.idpKey.cert],
      logger: memoryLogger(),
      ...options,
    });

  test('logins fail closed once validUntil passes and no valid replacement is found', async () => {
    const path = await file('expiring.xml', fixture.paper.metadata({ validUntil: new Date(t0 + 2 * HOUR) }));
    const s = source(path);
    await s.load(t0);
    await expect(s.current(t0 + HOUR / 2)).resolves.toMatchObject({ entityId: 'https://idp.test/metadata' });
    const err = await s.current(t0 + 3 * HOUR).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('temporarily_unavailable');
    expect((err as ProviderError).detail).toMatch(/expired/);
  });

  test('a replaced file is picked up at the next refresh; a broken one keeps the last good metadata', async () => {
    const path = await file('rolling.xml', fixture.paper.metadata({ validUntil: new Date(t0 + 24 * HOUR) }));
    const s = source(path);
    await s.load(t0);
    const rolled = await createTestIdp({
      baseUrl: 'https://idp.test',
      key: fixture.otherKey,
      sp: { entityId: 'unused', signingCert: fixture.otherKey.cert },
    });
    // new signing certificate, metadata still signed by the metadata key
    await writeFile(
      path,
      signMetadata(rolled.metadata({ sign: false, validUntil: new Date(t0 + 24 * HOUR) }), fixture.idpKey),
    );
    expect((await s.current(t0 + HOUR / 2)).certificates.map(body)).toEqual([body(fixture.idpKey.cert)]);
    // the refresh that is due runs in the background: this login goes on with the metadata still valid
    expect((await s.current(t0 + HOUR)).certificates.map(body)).toEqual([body(fixture.idpKey.cert)]);
    await s.settled();
    expect((await s.current(t0 + HOUR)).certificates.map(body)).toEqual([body(fixture.otherKey.cert)]);
    await writeFile(path, '<broken');
    expect((await s.current(t0 + 2 * HOUR + 1)).certificates.map(body)).toEqual([body(fixture.otherKey.cert)]);
    await s.settled();
    expect((await s.current(t0 + 2 * HOUR + 1)).certificates.map(body)).toEqual([body(fixture.otherKey.cert)]);
  });

  test('in production a refresh whose SSO locations turned http is refused and the last good metadata kept', async () => {
    const path = await file('turning-http.xml', fixture.paper.metadata({ validUntil: new Date(t0 + 24 * HOUR) }));
    const logger = memoryLogger();
    const s = source(path, { logger, production: true });
    await s.load(t0);
    const plain = await createTestIdp({
      baseUrl: 'http://idp.test',
      key: fixture.idpKey,
      sp: { entityId: 'unused', signingCert: fixture.idpKey.cert },
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
      fixture.paper
        .metadata({ sign: false })
        .replace(/<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*\/>/, ''),
      fixture.idpKey,
    );
    await expect(source(await file('redirect-only.xml', xml)).load()).rejects.toThrow(
      /no SingleSignOnService for the HTTP-POST binding/,
    );
  });
});

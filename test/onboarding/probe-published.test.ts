// The probe's check of what a provider publishes, fetched live over its mutual-TLS back channel: the
// test OP's discovery and JWKS pass; an OP publishing an RSA-1024 key, an HS256 key or offering HS256 or
// `none` for ID tokens fails; SAML IdP metadata with an RSA-1024/SHA-1 signing certificate, or signed
// with RSA-SHA1, or unsigned, fails; the test IdP's own metadata passes (./published-fixture.ts).
import { SignedXml } from 'xml-crypto';
import { factory as saml } from '../../providers/saml/index.ts';
import { idpMetadata } from '../../providers/saml/test-idp/metadata.ts';
import type { ProviderEntry } from '../../src/config/load.ts';
import { probePublished } from '../../src/onboarding/probe/published.ts';
import { createCa } from '../../src/tls/pki.ts';
import { fixture, usePublishers, publisher, rsaJwk, ecJwk, oidcEntry, opDocuments } from './published-fixture.ts';

usePublishers({ testOp: true });

describe('an OpenID Provider', () => {
  test("the test OP's discovery and JWKS are strong", async () => {
    const docs = await probePublished(oidcEntry(fixture.op.issuer, fixture.op.tls!));
    expect(docs.map((d) => [d.kind, d.ok, d.problems])).toEqual([
      ['openid-configuration', true, []],
      ['jwks', true, []],
    ]);
    expect(docs[0]!.url).toBe(`${fixture.op.issuer}/.well-known/openid-configuration`);
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
    const docs = await probePublished(
      oidcEntry(issuer, fixture.tlsFiles, { metadata: { jwks_uri: `${issuer}/jwks` } }),
    );
    expect(docs.filter((d) => d.kind === 'jwks').map((d) => d.ok)).toEqual([false, false]);
  });

  test('without the gateway client certificate nothing is published: the probe fails closed', async () => {
    const issuer = await publisher(opDocuments([rsaJwk(2048, 'good')]));
    const docs = await probePublished(oidcEntry(issuer, { ca: fixture.tlsFiles.ca }));
    expect(docs).toEqual([
      { url: issuer, kind: 'unreachable', ok: false, problems: [expect.stringMatching(/^cannot fetch/)] },
    ]);
  });
});

describe('a SAML IdP', () => {
  const samlEntry = (metadataUrl: string): ProviderEntry =>
    ({
      factory: saml,
      config: { id: 'eidas-x', type: 'saml', metadata_url: metadataUrl, tls: fixture.tlsFiles },
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

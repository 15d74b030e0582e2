// Attacks on the SAML service-provider side, one test each with a crafted response (real keys, real XML
// signatures and encryption; ./test-crafted-responses.ts): genuine responses accepted, then unsigned,
// stripped, altered or foreign signatures, disallowed algorithms, and encryption that is weak or missing.
import { NS } from './xml.ts';
import { buildResponse, issueResponse } from './test-idp/response-builder.ts';
import { encryptAssertion, sign } from './test-idp/response-protection.ts';
import {
  attack,
  useCraftedResponses,
  pendingLogin,
  attributesOf,
  edit,
  refused,
  VICTIM,
  OTHER,
} from './test-crafted-responses.ts';

useCraftedResponses();

describe('baseline: genuine responses are accepted', () => {
  test.each([
    ['response and assertion signed', { signResponse: true, signAssertion: true }],
    ['only the assertion signed', { signResponse: false, signAssertion: true }],
    ['only the response signed', { signResponse: true, signAssertion: false }],
  ])('%s', async (_name, o) => {
    const l = await pendingLogin();
    const { identity } = await l.deliver(await issueResponse(l.spec, { key: attack.idpKey, ...o }));
    expect(identity).toMatchObject({ personalCode: '010180-15097', country: 'LV', loa: 'high' });
  });

  test('encrypted assertion, signed inside the encryption only (re-verified after decrypting)', async () => {
    const l = await pendingLogin(attack.encryptingAdapter);
    const xml = await issueResponse(l.spec, {
      key: attack.idpKey,
      signResponse: false,
      encryptFor: attack.encryptingAdapter.certificates.encryption,
    });
    await expect(l.deliver(xml)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });
});

describe('signatures', () => {
  test('unsigned response and assertion', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse(l.spec, { key: attack.idpKey, signResponse: false, signAssertion: false })),
      'invalid_response',
      /neither .* signed/,
    );
  });

  test('signature stripped from a signed assertion', async () => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: attack.idpKey, signResponse: false }), (doc) => {
      const sig = doc.getElementsByTagNameNS(NS.ds, 'Signature')[0]!;
      sig.parentNode!.removeChild(sig);
    });
    await refused(l.deliver(xml), 'invalid_response', /neither .* signed/);
  });

  test('signed assertion altered after signing', async () => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: attack.idpKey, signResponse: false }), (doc) => {
      for (const v of Array.from(doc.getElementsByTagNameNS(NS.saml, 'AttributeValue')))
        if (v.textContent === VICTIM) v.textContent = OTHER;
    });
    await refused(l.deliver(xml), 'invalid_response', /does not verify/);
  });

  test("KeyInfo carrying the attacker's certificate (signed with the attacker's key)", async () => {
    const l = await pendingLogin();
    const xml = await issueResponse({ ...l.spec, attributes: attributesOf(OTHER) }, { key: attack.attackerKey });
    expect(xml).toContain(attack.attackerKey.cert.split('\n')[1]!.slice(0, 40)); // the KeyInfo really carries it
    await refused(l.deliver(xml), 'invalid_response', /does not verify with the configured IdP certificate/);
  });

  test('an encrypted assertion the attacker signed and encrypted to the (public) SP certificate', async () => {
    const l = await pendingLogin(attack.encryptingAdapter);
    const xml = await issueResponse(
      { ...l.spec, attributes: attributesOf(OTHER) },
      { key: attack.attackerKey, signResponse: false, encryptFor: attack.encryptingAdapter.certificates.encryption },
    );
    await refused(l.deliver(xml), 'invalid_response', /does not verify/);
  });

  test('an encrypted assertion with no signature inside and an unsigned response', async () => {
    const l = await pendingLogin(attack.encryptingAdapter);
    const xml = await issueResponse(l.spec, {
      key: attack.idpKey,
      signResponse: false,
      signAssertion: false,
      encryptFor: attack.encryptingAdapter.certificates.encryption,
    });
    await refused(l.deliver(xml), 'invalid_response', /neither .* signed/);
  });

  /** The response with its assertion signed by the IdP's key under rsa-sha1, the digest by `digestAlgorithm`. */
  async function signedWithRsaSha1(spec: Parameters<typeof buildResponse>[0], digestAlgorithm: string) {
    const { SignedXml } = await import('xml-crypto');
    const sx = new SignedXml({
      privateKey: attack.idpKey.key,
      publicCert: attack.idpKey.cert,
      signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
      canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    });
    sx.addReference({
      xpath: "/*/*[local-name(.)='Assertion']",
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
      digestAlgorithm,
    });
    sx.computeSignature(buildResponse(spec), {
      location: { reference: "/*/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
    });
    return sx.getSignedXml();
  }

  test('a signature with a disallowed algorithm (rsa-sha1)', async () => {
    const l = await pendingLogin();
    const xml = await signedWithRsaSha1(l.spec, 'http://www.w3.org/2000/09/xmldsig#sha1');
    await refused(l.deliver(xml), 'invalid_response', /not allowed/);
  });

  test('rsa-sha1 signature over an allowed sha256 digest: the signature algorithm itself is refused', async () => {
    const l = await pendingLogin();
    const xml = await signedWithRsaSha1(l.spec, 'http://www.w3.org/2001/04/xmlenc#sha256');
    expect(xml).toContain('xmlenc#sha256'); // the digest passes the digest allow-list
    await refused(
      l.deliver(xml),
      'invalid_response',
      /signature algorithm http:\/\/www\.w3\.org\/2000\/09\/xmldsig#rsa-sha1 is not allowed/,
    );
  });

  test('content encryption with AES-CBC (padding-oracle prone) is refused', async () => {
    const l = await pendingLogin(attack.encryptingAdapter);
    const signed = sign(buildResponse(l.spec), 'assertion', attack.idpKey);
    const xml = await encryptAssertion(signed, attack.encryptingAdapter.certificates.encryption, {
      content: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
    });
    await refused(l.deliver(xml), 'invalid_response', /aes256-cbc is not allowed/);
  });

  test('a plain assertion where encryption is required', async () => {
    const l = await pendingLogin(attack.encryptingAdapter);
    await refused(
      l.deliver(await issueResponse(l.spec, { key: attack.idpKey })),
      'invalid_response',
      /requires encryption/,
    );
  });
});

// One test per attack on the SAML service-provider side, each with a crafted response: real keys, real
// XML signatures (xml-crypto) and real encryption; the attacker holds its own key and the SP's public
// encryption certificate, and may edit and reorder anything it has seen.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { ProviderError, type CallbackResult } from '../../src/broker/adapter.ts';
import { factory, type SamlAdapter } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { EIDAS_NATURAL_PERSON } from './attributes.ts';
import { NS } from './xml.ts';
import { STATUS, buildResponse, issueResponse, newId, type ResponseSpec } from './test-idp/response-builder.ts';
import { encryptAssertion, sign } from './test-idp/response-protection.ts';
import { statusError, DEFAULT_CANCEL_MESSAGES } from './status.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';

const BASE = 'https://gateway.test';
const ACS = `${BASE}/broker/callback/eidas`;
const IDP = 'https://idp.test/metadata';
const PID = `${EIDAS_NATURAL_PERSON}PersonIdentifier`;
const VICTIM = 'LV/LV/010180-15097';
const OTHER = 'LV/LV/120345-12345';

let dir: string;
let idpKey: KeyPair;
let attackerKey: KeyPair;
let store: MemoryStore;
let adapter: SamlAdapter;
let encryptingAdapter: SamlAdapter;

async function makeAdapter(extra: Record<string, unknown>, keyDir: string): Promise<SamlAdapter> {
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    // never contacted: these tests hand the adapter crafted responses directly
    idp: { entity_id: IDP, sso_url: 'http://127.0.0.1:9/sso', certificates: [join(dir, 'idp.pem')] },
    clock_skew_seconds: 30,
    ...extra,
  });
  return (await factory.create(config, adapterDeps(keyDir, { baseUrl: BASE, store }))) as SamlAdapter;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-attacks-'));
  [idpKey, attackerKey] = await Promise.all([generateKeyPair('idp.test'), generateKeyPair('idp.test')]);
  await writeFile(join(dir, 'idp.pem'), idpKey.cert);
  store = new MemoryStore();
  adapter = await makeAdapter({}, join(dir, 'keys'));
  encryptingAdapter = await makeAdapter({ require_encrypted_assertion: true, binding: 'post' }, join(dir, 'keys'));
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A login that has sent its AuthnRequest: what the broker would hold. */
async function pendingLogin(a: SamlAdapter = adapter) {
  const loginStartedAt = Date.now();
  const started = await a.start({
    browser: TEST_BROWSER_DIGEST,
    state: 'S'.repeat(27),
    callbackUrl: ACS,
    locale: 'en',
    correlationId: 'attack',
  });
  const connData = started.connData as { requestId: string };
  const spec: ResponseSpec = {
    idpEntityId: IDP,
    spEntityId: a.spEntityId,
    acsUrl: ACS,
    inResponseTo: connData.requestId,
    classRef: 'http://eidas.europa.eu/LoA/high',
    attributes: attributesOf(VICTIM),
  };
  const deliver = (xml: string, a2: SamlAdapter = a): Promise<CallbackResult> =>
    a2.callback({
      params: { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), RelayState: 'S'.repeat(27) },
      method: 'POST',
      connData,
      callbackUrl: ACS,
      correlationId: 'attack',
      loginStartedAt,
    });
  return { connData, spec, deliver, loginStartedAt };
}

function attributesOf(pid: string): Record<string, string[]> {
  return {
    [PID]: [pid],
    [`${EIDAS_NATURAL_PERSON}CurrentGivenName`]: ['Jānis'],
    [`${EIDAS_NATURAL_PERSON}CurrentFamilyName`]: ['Bērziņš'],
  };
}

const parse = (xml: string): Document => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (doc: Document): string => new XMLSerializer().serializeToString(doc);
const assertionOf = (doc: Document | Element): Element => doc.getElementsByTagNameNS(NS.saml, 'Assertion')[0]!;

/** Edit a signed response's DOM (what an attacker who saw it can do without any key). */
function edit(xml: string, fn: (doc: Document) => void): string {
  const doc = parse(xml);
  fn(doc);
  return serialize(doc);
}

/** The attacker's forged assertion: a copy of the genuine one naming another person, with a fresh ID. */
function evilCopy(doc: Document, genuine: Element): Element {
  const evil = genuine.cloneNode(true) as Element;
  evil.setAttribute('ID', newId());
  for (const v of Array.from(evil.getElementsByTagNameNS(NS.saml, 'AttributeValue')))
    if (v.textContent === VICTIM) v.textContent = OTHER;
  // leave the copied signature in place: it names the genuine assertion's ID
  return doc.importNode(evil, true) as Element;
}

async function refused(p: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProviderError);
  expect((err as ProviderError).code).toBe(code);
  if (detail) expect((err as ProviderError).detail).toMatch(detail);
}

describe('baseline: genuine responses are accepted', () => {
  test.each([
    ['response and assertion signed', { signResponse: true, signAssertion: true }],
    ['only the assertion signed', { signResponse: false, signAssertion: true }],
    ['only the response signed', { signResponse: true, signAssertion: false }],
  ])('%s', async (_name, o) => {
    const l = await pendingLogin();
    const { identity } = await l.deliver(await issueResponse(l.spec, { key: idpKey, ...o }));
    expect(identity).toMatchObject({ personalCode: '010180-15097', country: 'LV', loa: 'high' });
  });

  test('encrypted assertion, signed inside the encryption only (re-verified after decrypting)', async () => {
    const l = await pendingLogin(encryptingAdapter);
    const xml = await issueResponse(l.spec, {
      key: idpKey,
      signResponse: false,
      encryptFor: encryptingAdapter.certificates.encryption,
    });
    await expect(l.deliver(xml)).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });
});

describe('signatures', () => {
  test('unsigned response and assertion', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse(l.spec, { key: idpKey, signResponse: false, signAssertion: false })),
      'invalid_response',
      /neither .* signed/,
    );
  });

  test('signature stripped from a signed assertion', async () => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: idpKey, signResponse: false }), (doc) => {
      const sig = doc.getElementsByTagNameNS(NS.ds, 'Signature')[0]!;
      sig.parentNode!.removeChild(sig);
    });
    await refused(l.deliver(xml), 'invalid_response', /neither .* signed/);
  });

  test('signed assertion altered after signing', async () => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: idpKey, signResponse: false }), (doc) => {
      for (const v of Array.from(doc.getElementsByTagNameNS(NS.saml, 'AttributeValue')))
        if (v.textContent === VICTIM) v.textContent = OTHER;
    });
    await refused(l.deliver(xml), 'invalid_response', /does not verify/);
  });

  test("KeyInfo carrying the attacker's certificate (signed with the attacker's key)", async () => {
    const l = await pendingLogin();
    const xml = await issueResponse({ ...l.spec, attributes: attributesOf(OTHER) }, { key: attackerKey });
    expect(xml).toContain(attackerKey.cert.split('\n')[1]!.slice(0, 40)); // the KeyInfo really carries it
    await refused(l.deliver(xml), 'invalid_response', /does not verify with the configured IdP certificate/);
  });

  test('an encrypted assertion the attacker signed and encrypted to the (public) SP certificate', async () => {
    const l = await pendingLogin(encryptingAdapter);
    const xml = await issueResponse(
      { ...l.spec, attributes: attributesOf(OTHER) },
      { key: attackerKey, signResponse: false, encryptFor: encryptingAdapter.certificates.encryption },
    );
    await refused(l.deliver(xml), 'invalid_response', /does not verify/);
  });

  test('an encrypted assertion with no signature inside and an unsigned response', async () => {
    const l = await pendingLogin(encryptingAdapter);
    const xml = await issueResponse(l.spec, {
      key: idpKey,
      signResponse: false,
      signAssertion: false,
      encryptFor: encryptingAdapter.certificates.encryption,
    });
    await refused(l.deliver(xml), 'invalid_response', /neither .* signed/);
  });

  /** The response with its assertion signed by the IdP's key under rsa-sha1, the digest by `digestAlgorithm`. */
  async function signedWithRsaSha1(spec: Parameters<typeof buildResponse>[0], digestAlgorithm: string) {
    const { SignedXml } = await import('xml-crypto');
    const sx = new SignedXml({
      privateKey: idpKey.key,
      publicCert: idpKey.cert,
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
    const l = await pendingLogin(encryptingAdapter);
    const signed = sign(buildResponse(l.spec), 'assertion', idpKey);
    const xml = await encryptAssertion(signed, encryptingAdapter.certificates.encryption, {
      content: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc',
    });
    await refused(l.deliver(xml), 'invalid_response', /aes256-cbc is not allowed/);
  });

  test('a plain assertion where encryption is required', async () => {
    const l = await pendingLogin(encryptingAdapter);
    await refused(l.deliver(await issueResponse(l.spec, { key: idpKey })), 'invalid_response', /requires encryption/);
  });
});

describe('signature wrapping (XSW): the genuine signed assertion stays, a forged one is added', () => {
  const wrapped = async (place: (doc: Document, genuine: Element, evil: Element) => void) => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: idpKey, signResponse: false }), (doc) => {
      const genuine = assertionOf(doc);
      place(doc, genuine, evilCopy(doc, genuine));
    });
    return { l, xml };
  };

  test('forged assertion before the signed one', async () => {
    const { l, xml } = await wrapped((_doc, genuine, evil) => genuine.parentNode!.insertBefore(evil, genuine));
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('forged assertion after the signed one', async () => {
    const { l, xml } = await wrapped((_doc, genuine, evil) => genuine.parentNode!.appendChild(evil));
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('forged assertion inside the signed one', async () => {
    const { l, xml } = await wrapped((_doc, genuine, evil) => genuine.appendChild(evil));
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('signed assertion moved inside the forged one, which takes its place', async () => {
    const { l, xml } = await wrapped((_doc, genuine, evil) => {
      const parent = genuine.parentNode!;
      parent.replaceChild(evil, genuine);
      evil.appendChild(genuine);
    });
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('signed assertion hidden in samlp:Extensions, forged one in its place', async () => {
    const { l, xml } = await wrapped((doc, genuine, evil) => {
      const res = doc.documentElement!;
      res.replaceChild(evil, genuine);
      const ext = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      ext.appendChild(genuine);
      res.insertBefore(ext, res.getElementsByTagNameNS(NS.samlp, 'Status')[0]!);
    });
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('signed assertion hidden in ds:Object of the signature, forged one in its place', async () => {
    const { l, xml } = await wrapped((doc, genuine, evil) => {
      doc.documentElement!.replaceChild(evil, genuine);
      const sig = evil.getElementsByTagNameNS(NS.ds, 'Signature')[0]!;
      const obj = doc.createElementNS(NS.ds, 'ds:Object');
      obj.appendChild(genuine);
      sig.appendChild(obj);
    });
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('signed Response wrapped: the genuine signed Response hidden in Extensions of a forged Response', async () => {
    const l = await pendingLogin();
    const genuineXml = await issueResponse(l.spec, { key: idpKey, signAssertion: false });
    const xml = edit(genuineXml, (doc) => {
      const genuine = doc.documentElement!;
      const forged = genuine.cloneNode(true) as Element;
      forged.setAttribute('ID', newId());
      const a = assertionOf(forged);
      for (const v of Array.from(a.getElementsByTagNameNS(NS.saml, 'AttributeValue')))
        if (v.textContent === VICTIM) v.textContent = OTHER;
      const ext = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      ext.appendChild(genuine.cloneNode(true));
      forged.insertBefore(ext, forged.getElementsByTagNameNS(NS.samlp, 'Status')[0]!);
      doc.replaceChild(forged, genuine);
    });
    await refused(l.deliver(xml), 'invalid_response');
  });
});

describe('parsing', () => {
  test('comment injected into the NameID (the signature still verifies: comments are not signed)', async () => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: idpKey, signResponse: false }), (doc) => {
      const nameId = doc.getElementsByTagNameNS(NS.saml, 'NameID')[0]!;
      const text = nameId.textContent!;
      nameId.textContent = text.slice(0, 10);
      nameId.appendChild(doc.createComment(''));
      nameId.appendChild(doc.createTextNode(text.slice(10)));
    });
    await refused(l.deliver(xml), 'invalid_response', /comments/);
  });

  test('comment injected into an attribute value: LV/LV/010180-1509<!---->7', async () => {
    const l = await pendingLogin();
    const xml = (await issueResponse(l.spec, { key: idpKey, signResponse: false })).replace(
      VICTIM,
      'LV/LV/010180-1509<!---->7',
    );
    expect(xml).toContain('<!---->');
    await refused(l.deliver(xml), 'invalid_response', /comments/);
  });

  test('DTD with an internal entity', async () => {
    const l = await pendingLogin();
    const signed = await issueResponse(l.spec, { key: idpKey, signResponse: false });
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY pid "${VICTIM}">]>${signed.replace(VICTIM, '&pid;')}`;
    await refused(l.deliver(xml), 'invalid_response', /DTD/);
  });

  test('external entity (XXE)', async () => {
    const l = await pendingLogin();
    const signed = await issueResponse(l.spec, { key: idpKey });
    const xml = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${signed.replace('</saml:Issuer>', '&x;</saml:Issuer>')}`;
    await refused(l.deliver(xml), 'invalid_response', /DTD/);
  });

  test('two genuinely signed assertions', async () => {
    const l = await pendingLogin();
    const first = await issueResponse(l.spec, { key: idpKey, signResponse: false });
    const second = await issueResponse(
      { ...l.spec, attributes: attributesOf(OTHER) },
      { key: idpKey, signResponse: false },
    );
    const xml = edit(first, (doc) => {
      doc.documentElement!.appendChild(doc.importNode(assertionOf(parse(second)), true));
    });
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('response over the size limit', async () => {
    const l = await pendingLogin();
    const big = { ...l.spec, attributes: { ...attributesOf(VICTIM), padding: ['x'.repeat(300 * 1024)] } };
    await refused(l.deliver(await issueResponse(big, { key: idpKey })), 'invalid_response', /size limit/);
  });

  test('not base64, not XML, not a Response', async () => {
    const l = await pendingLogin();
    const cb = (v: string) =>
      adapter.callback({
        params: { SAMLResponse: v, RelayState: 'x' },
        method: 'POST',
        connData: l.connData,
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt: l.loginStartedAt,
      });
    await refused(cb('%%%'), 'invalid_response', /base64/);
    const l2 = await pendingLogin();
    await refused(l2.deliver('<notxml'), 'invalid_response');
    const l3 = await pendingLogin();
    await refused(
      l3.deliver('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'),
      'invalid_response',
      /not a SAML 2.0 Response/,
    );
  });
});

describe('conditions and binding to the request', () => {
  test.each([
    ['audience', { audience: 'https://other-sp.test' }, /audience/],
    ['Destination', { destination: 'https://other-sp.test/acs' }, /Destination/],
    ['bearer Recipient', { recipient: 'https://other-sp.test/acs' }, /Recipient/],
    ['Issuer (another IdP, same key)', { idpEntityId: 'https://other-idp.test' }, /Issuer/],
  ] as const)('wrong %s', async (_what, changed, reason) => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, ...changed }, { key: idpKey })),
      'invalid_response',
      reason,
    );
  });

  test('expired (beyond the clock skew)', async () => {
    const l = await pendingLogin();
    const now = Date.now() - 10 * 60_000; // issued 10 minutes ago, valid 5
    await refused(l.deliver(await issueResponse({ ...l.spec, now }, { key: idpKey })), 'invalid_response', /expired/);
  });

  test('not yet valid (beyond the clock skew)', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, notBefore: Date.now() + 5 * 60_000 }, { key: idpKey })),
      'invalid_response',
      /not yet valid/,
    );
  });

  test('within the clock skew is accepted', async () => {
    const l = await pendingLogin();
    await expect(
      l.deliver(await issueResponse({ ...l.spec, notBefore: Date.now() + 10_000 }, { key: idpKey })),
    ).resolves.toMatchObject({ identity: { personalCode: '010180-15097' } });
  });

  // the adapter allows 30 s of clock skew either way, no more
  test.each([
    ['that ended 10 s ago: accepted', { notOnOrAfter: -10_000 }, undefined],
    ['that ended 45 s ago: expired', { notOnOrAfter: -45_000 }, /has expired/],
    ['that begins 45 s ahead: not yet valid', { notBefore: 45_000 }, /not yet valid/],
  ] as const)('a validity window %s', async (_what, offsets, reason) => {
    const l = await pendingLogin();
    const at = Object.fromEntries(Object.entries(offsets).map(([k, ms]) => [k, Date.now() + ms]));
    const answer = l.deliver(await issueResponse({ ...l.spec, ...at }, { key: idpKey }));
    if (reason) await refused(answer, 'invalid_response', reason);
    else await expect(answer).resolves.toBeDefined();
  });

  test('replayed assertion: the same assertion ID answering a new request', async () => {
    const assertionId = newId();
    const first = await pendingLogin();
    await first.deliver(await issueResponse({ ...first.spec, assertionId }, { key: idpKey }));
    const second = await pendingLogin();
    await refused(
      second.deliver(await issueResponse({ ...second.spec, assertionId }, { key: idpKey })),
      'invalid_response',
      /replayed/,
    );
  });

  test('unknown InResponseTo (answer to a request this login never sent)', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, inResponseTo: newId() }, { key: idpKey })),
      'invalid_response',
      /InResponseTo/,
    );
  });

  test('InResponseTo of another pending login', async () => {
    const mine = await pendingLogin();
    const other = await pendingLogin();
    await refused(
      mine.deliver(await issueResponse({ ...mine.spec, inResponseTo: other.connData.requestId }, { key: idpKey })),
      'invalid_response',
      /InResponseTo/,
    );
  });

  test('a signed assertion answering another request, inside an unsigned Response re-addressed to this login', async () => {
    const mine = await pendingLogin();
    const other = await pendingLogin();
    // genuinely signed by the IdP for the other login; only the unsigned envelope is changed
    const xml = edit(
      await issueResponse(
        { ...mine.spec, inResponseTo: other.connData.requestId },
        { key: idpKey, signResponse: false },
      ),
      (doc) => {
        doc.documentElement!.setAttribute('InResponseTo', mine.connData.requestId);
      },
    );
    await refused(mine.deliver(xml), 'invalid_response', /bearer InResponseTo does not match/);
  });

  test('reused InResponseTo: a second, fresh response to an answered request', async () => {
    const l = await pendingLogin();
    await l.deliver(await issueResponse(l.spec, { key: idpKey }));
    await refused(l.deliver(await issueResponse(l.spec, { key: idpKey })), 'invalid_response', /InResponseTo reuse/);
  });

  test('the same response delivered twice', async () => {
    const l = await pendingLogin();
    const xml = await issueResponse(l.spec, { key: idpKey });
    await l.deliver(xml);
    await refused(l.deliver(xml), 'invalid_response');
  });

  test('a response by GET is refused', async () => {
    const l = await pendingLogin();
    const xml = await issueResponse(l.spec, { key: idpKey });
    await refused(
      adapter.callback({
        params: { SAMLResponse: Buffer.from(xml).toString('base64') },
        method: 'GET',
        connData: l.connData,
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt: l.loginStartedAt,
      }),
      'invalid_response',
      /HTTP-POST/,
    );
  });

  test('a level below the requested one is loa_too_low', async () => {
    const loginStartedAt = Date.now();
    const started = await adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: ACS,
      acr: 'high',
      locale: 'en',
      correlationId: 'c',
    });
    const requestId = (started.connData as { requestId: string }).requestId;
    const xml = await issueResponse(
      {
        idpEntityId: IDP,
        spEntityId: adapter.spEntityId,
        acsUrl: ACS,
        inResponseTo: requestId,
        classRef: 'http://eidas.europa.eu/LoA/substantial',
        attributes: attributesOf(VICTIM),
      },
      { key: idpKey },
    );
    await refused(
      adapter.callback({
        params: { SAMLResponse: Buffer.from(xml).toString('base64') },
        method: 'POST',
        connData: started.connData,
        acr: 'high',
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt,
      }),
      'loa_too_low',
    );
  });

  test('an unknown AuthnContextClassRef gives no level', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(
        await issueResponse(
          { ...l.spec, classRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:Password' },
          { key: idpKey },
        ),
      ),
      'invalid_response',
      /level of assurance/,
    );
  });
});

describe('an assertion the IdP signed that breaks a rule of the SAML profile is refused', () => {
  const first = (doc: Document, name: string): Element => doc.getElementsByTagNameNS(NS.saml, name)[0]!;
  const past = () => new Date(Date.now() - 5 * 60_000).toISOString();
  test.each([
    [
      'its bearer confirmation expired, though its Conditions have not',
      (doc: Document) => first(doc, 'SubjectConfirmationData').setAttribute('NotOnOrAfter', past()),
      /bearer confirmation has expired/,
    ],
    [
      'only a holder-of-key confirmation (the presenter must prove a key; a bearer answer proves none)',
      (doc: Document) =>
        first(doc, 'SubjectConfirmation').setAttribute('Method', 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key'),
      /no bearer confirmation/,
    ],
    [
      'no AudienceRestriction (an assertion for any service provider)',
      (doc: Document) => first(doc, 'Conditions').removeChild(first(doc, 'AudienceRestriction')),
      /no AudienceRestriction/,
    ],
    [
      'a condition this service provider does not understand (SAML core 2.5.1: its validity is then indeterminate)',
      (doc: Document) => first(doc, 'Conditions').appendChild(doc.createElementNS(NS.saml, 'saml:Condition')),
      /unknown condition Condition/,
    ],
    [
      'the Assertion Issuer is another IdP (the Response names ours)',
      (doc: Document) => {
        assertionOf(doc).getElementsByTagNameNS(NS.saml, 'Issuer')[0]!.textContent = 'https://other-idp.test';
      },
      /Assertion Issuer is not the configured IdP/,
    ],
    [
      'the Response Issuer is another IdP (the Assertion names ours)',
      (doc: Document) => {
        first(doc, 'Issuer').textContent = 'https://other-idp.test';
      },
      /Response Issuer is not the configured IdP/,
    ],
    [
      'the authentication session it vouches for had ended (SessionNotOnOrAfter)',
      (doc: Document) => first(doc, 'AuthnStatement').setAttribute('SessionNotOnOrAfter', past()),
      /authentication session has expired/,
    ],
    [
      'two authentication statements',
      (doc: Document) => assertionOf(doc).appendChild(first(doc, 'AuthnStatement').cloneNode(true)),
      /one AuthnStatement, carries 2/,
    ],
  ] as const)('%s', async (_what, change, reason) => {
    const l = await pendingLogin();
    const changed = edit(buildResponse(l.spec), change);
    await refused(l.deliver(sign(sign(changed, 'assertion', idpKey), 'response', idpKey)), 'invalid_response', reason);
  });
});

describe('status codes', () => {
  test.each([
    [
      { code: `${STATUS}Responder`, subCode: `${STATUS}RequestDenied`, message: 'Citizen consent not given.' },
      'user_cancel',
    ],
    [
      { code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'User cancelled the authentication' },
      'user_cancel',
    ],
    [{ code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'PIN blocked' }, 'access_denied'],
    [{ code: `${STATUS}Requester`, subCode: `${STATUS}RequestDenied` }, 'access_denied'],
    [{ code: `${STATUS}Responder`, subCode: `${STATUS}NoAuthnContext` }, 'loa_too_low'],
    [{ code: `${STATUS}Responder` }, 'temporarily_unavailable'],
    [{ code: `${STATUS}Requester`, subCode: `${STATUS}UnsupportedBinding` }, 'temporarily_unavailable'],
  ])('%j -> %s (over a real, unsigned error response)', async (status, code) => {
    const l = await pendingLogin();
    await refused(l.deliver(buildResponse({ ...l.spec, status })), code);
  });

  test('the detail names status codes only, never the IdP free text', () => {
    const err = statusError(
      { code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'person 010180-15097 is blocked' },
      DEFAULT_CANCEL_MESSAGES,
    );
    expect(err.detail).not.toContain('010180');
  });

  test('an error status for another request is still refused as such', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(buildResponse({ ...l.spec, inResponseTo: newId(), status: { code: `${STATUS}Responder` } })),
      'invalid_response',
      /InResponseTo/,
    );
  });
});

describe('fresh authentication: AuthnInstant belongs to this login', () => {
  test('the identity carries the AuthnInstant, not the time of our check', async () => {
    const l = await pendingLogin();
    const authnInstant = Date.now() - 20_000; // the IdP's clock a little behind ours, within the skew
    const { identity } = await l.deliver(await issueResponse({ ...l.spec, authnInstant }, { key: idpKey }));
    expect(identity.authTime).toBe(Math.floor(authnInstant / 1000));
  });

  test('an AuthnInstant from before this login started (an IdP that ignored ForceAuthn) is refused', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, authnInstant: l.loginStartedAt - 10 * 60_000 }, { key: idpKey })),
      'invalid_response',
      /AuthnInstant is 600 s before this login started \(allowed 30 s\)/,
    );
  });

  test('an AuthnInstant in the future is refused', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, authnInstant: Date.now() + 10 * 60_000 }, { key: idpKey })),
      'invalid_response',
      /AuthnInstant is \d+ s in the future/,
    );
  });

  test('an AuthnStatement without AuthnInstant is refused', async () => {
    const l = await pendingLogin();
    const unsigned = edit(buildResponse(l.spec), (doc) =>
      doc.getElementsByTagNameNS(NS.saml, 'AuthnStatement')[0]!.removeAttribute('AuthnInstant'),
    );
    await refused(l.deliver(sign(unsigned, 'assertion', idpKey)), 'invalid_response', /no AuthnInstant/);
  });

  test('the AuthnRequest always asks for ForceAuthn; configuration cannot switch it off', async () => {
    const started = await adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: ACS,
      locale: 'en',
      correlationId: 'f',
    });
    const url = new URL((started.action as { url: string }).url);
    const { inflateRawSync } = await import('node:zlib');
    expect(inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString()).toMatch(
      /ForceAuthn="true"/,
    );
    expect(
      factory.schema.safeParse({
        ...SAML_TEST_ENTRY,
        idp: { entity_id: IDP, sso_url: 'http://127.0.0.1:9/sso', certificates: [join(dir, 'idp.pem')] },
        force_authn: false,
      }).success,
    ).toBe(false);
  });
});

// Attacks on the SAML service-provider side, one test each with a crafted response
// (./test-crafted-responses.ts): signature wrapping (the genuine signed assertion stays, a forged one is
// added), and what the parser must refuse (comments, DTDs, external entities, two assertions, size, garbage).
import type { Document, Element } from '@xmldom/xmldom';
import { NS } from './xml.ts';
import { issueResponse, newId } from './test-idp/response-builder.ts';
import {
  attack,
  useCraftedResponses,
  pendingLogin,
  attributesOf,
  parse,
  assertionOf,
  edit,
  evilCopy,
  refused,
  ACS,
  VICTIM,
  OTHER,
} from './test-crafted-responses.ts';

useCraftedResponses();

describe('signature wrapping (XSW): the genuine signed assertion stays, a forged one is added', () => {
  const wrapped = async (place: (doc: Document, genuine: Element, evil: Element) => void) => {
    const l = await pendingLogin();
    const xml = edit(await issueResponse(l.spec, { key: attack.idpKey, signResponse: false }), (doc) => {
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
    const genuineXml = await issueResponse(l.spec, { key: attack.idpKey, signAssertion: false });
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
    const xml = edit(await issueResponse(l.spec, { key: attack.idpKey, signResponse: false }), (doc) => {
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
    const xml = (await issueResponse(l.spec, { key: attack.idpKey, signResponse: false })).replace(
      VICTIM,
      'LV/LV/010180-1509<!---->7',
    );
    expect(xml).toContain('<!---->');
    await refused(l.deliver(xml), 'invalid_response', /comments/);
  });

  test('DTD with an internal entity', async () => {
    const l = await pendingLogin();
    const signed = await issueResponse(l.spec, { key: attack.idpKey, signResponse: false });
    const xml = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY pid "${VICTIM}">]>${signed.replace(VICTIM, '&pid;')}`;
    await refused(l.deliver(xml), 'invalid_response', /DTD/);
  });

  test('external entity (XXE)', async () => {
    const l = await pendingLogin();
    const signed = await issueResponse(l.spec, { key: attack.idpKey });
    const xml = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>${signed.replace('</saml:Issuer>', '&x;</saml:Issuer>')}`;
    await refused(l.deliver(xml), 'invalid_response', /DTD/);
  });

  test('two genuinely signed assertions', async () => {
    const l = await pendingLogin();
    const first = await issueResponse(l.spec, { key: attack.idpKey, signResponse: false });
    const second = await issueResponse(
      { ...l.spec, attributes: attributesOf(OTHER) },
      { key: attack.idpKey, signResponse: false },
    );
    const xml = edit(first, (doc) => {
      doc.documentElement!.appendChild(doc.importNode(assertionOf(parse(second)), true));
    });
    await refused(l.deliver(xml), 'invalid_response', /exactly one assertion/);
  });

  test('response over the size limit', async () => {
    const l = await pendingLogin();
    const big = { ...l.spec, attributes: { ...attributesOf(VICTIM), padding: ['x'.repeat(300 * 1024)] } };
    await refused(l.deliver(await issueResponse(big, { key: attack.idpKey })), 'invalid_response', /size limit/);
  });

  test('not base64, not XML, not a Response', async () => {
    const l = await pendingLogin();
    const cb = (v: string) =>
      attack.adapter.callback({
        params: { SAMLResponse: v, RelayState: 'x' },
        method: 'POST',
        connData: l.connData,
        callbackUrl: ACS,
        correlationId: 'c',
        loginStartedAt: l.loginStartedAt,
        authenticatedNotBefore: undefined,
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

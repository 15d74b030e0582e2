// The IdP's SAML metadata: an EntityDescriptor with its signing certificate and both SSO bindings, by
// default signed (enveloped signature) and valid for a day, as a federation publishes it.
import { randomBytes } from 'node:crypto';
import { DOMImplementation, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import type { KeyPair } from '../keys.ts';
import { RSA_SHA256 } from '../request.ts';
import { NS } from '../xml.ts';
import type { IdpMetadataOptions } from './options.ts';

/** Enveloped signature as the first child of the metadata's root, referencing it by ID. */
export function signMetadata(xml: string, key: KeyPair): string {
  const sx = new SignedXml({
    privateKey: key.key,
    publicCert: key.cert,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sx.addReference({
    xpath: '/*',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sx.computeSignature(xml, { location: { reference: '/*/*[1]', action: 'before' } });
  return sx.getSignedXml();
}

export function idpMetadata(
  { entityId, ssoUrl, key }: { entityId: string; ssoUrl: string; key: KeyPair },
  o: IdpMetadataOptions = {},
): string {
  const doc = new DOMImplementation().createDocument(NS.md, 'md:EntityDescriptor', null);
  const ed = doc.documentElement!;
  ed.setAttribute('ID', `_${randomBytes(16).toString('hex')}`);
  ed.setAttribute('entityID', entityId);
  const validUntil = o.validUntil === undefined ? new Date(Date.now() + 86_400_000) : o.validUntil;
  if (validUntil) ed.setAttribute('validUntil', validUntil.toISOString());
  const idp = doc.createElementNS(NS.md, 'md:IDPSSODescriptor');
  idp.setAttribute('protocolSupportEnumeration', 'urn:oasis:names:tc:SAML:2.0:protocol');
  idp.setAttribute('WantAuthnRequestsSigned', 'true');
  const kd = doc.createElementNS(NS.md, 'md:KeyDescriptor');
  kd.setAttribute('use', 'signing');
  const ki = doc.createElementNS(NS.ds, 'ds:KeyInfo');
  const xd = doc.createElementNS(NS.ds, 'ds:X509Data');
  const xc = doc.createElementNS(NS.ds, 'ds:X509Certificate');
  xc.appendChild(doc.createTextNode(key.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')));
  xd.appendChild(xc);
  ki.appendChild(xd);
  kd.appendChild(ki);
  idp.appendChild(kd);
  for (const binding of ['HTTP-Redirect', 'HTTP-POST']) {
    const s = doc.createElementNS(NS.md, 'md:SingleSignOnService');
    s.setAttribute('Binding', `urn:oasis:names:tc:SAML:2.0:bindings:${binding}`);
    s.setAttribute('Location', ssoUrl);
    idp.appendChild(s);
  }
  ed.appendChild(idp);
  const xml = new XMLSerializer().serializeToString(doc);
  return o.sign === false ? xml : signMetadata(xml, key);
}

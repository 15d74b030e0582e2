// What an IdP does to a built Response before it leaves: enveloped signatures by xml-crypto (placed after
// Issuer, as the SAML schema wants) and the assertion encrypted by xml-encryption (AES-256-GCM with RSA-OAEP
// key transport). Attack tests call these on responses they have altered.
import { createPublicKey } from 'node:crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import { NS } from '../xml.ts';
import type { KeyPair } from '../keys.ts';

/** Sign the Response (`which: 'response'`) or its Assertion, enveloped, signature after Issuer, cert in KeyInfo. */
export function sign(xml: string, which: 'response' | 'assertion', key: KeyPair): string {
  const sx = new SignedXml({
    privateKey: key.key,
    publicCert: key.cert,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  const target = which === 'response' ? "/*[local-name(.)='Response']" : "/*/*[local-name(.)='Assertion']";
  sx.addReference({
    xpath: target,
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sx.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return sx.getSignedXml();
}

/** Replace the Assertion with an EncryptedAssertion for the SP's encryption certificate. */
export async function encryptAssertion(
  xml: string,
  spEncryptionCert: string,
  algorithms: { content?: string; keyTransport?: string } = {},
): Promise<string> {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const assertion = doc.getElementsByTagNameNS(NS.saml, 'Assertion')[0];
  if (!assertion) throw new Error('no assertion to encrypt');
  const plaintext = new XMLSerializer().serializeToString(assertion);
  const encrypted = await new Promise<string>((resolve, reject) => {
    xmlenc.encrypt(
      plaintext,
      {
        rsa_pub: createPublicKey(spEncryptionCert).export({ type: 'spki', format: 'pem' }).toString(),
        pem: spEncryptionCert,
        encryptionAlgorithm: algorithms.content ?? 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
        keyEncryptionAlgorithm: algorithms.keyTransport ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
        disallowEncryptionWithInsecureAlgorithm: false,
        warnInsecureAlgorithm: false,
      },
      (err, result) => (err || !result ? reject(err ?? new Error('encryption failed')) : resolve(result)),
    );
  });
  const data = new DOMParser().parseFromString(encrypted, 'text/xml').documentElement!;
  const wrapper = doc.createElementNS(NS.saml, 'saml:EncryptedAssertion');
  wrapper.appendChild(doc.importNode(data, true));
  assertion.parentNode!.replaceChild(wrapper, assertion);
  return new XMLSerializer().serializeToString(doc);
}

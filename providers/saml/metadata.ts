// SP metadata: saml2-js writes the EntityDescriptor; we correct what it gets wrong for us (it lists a
// SingleLogoutService at the ACS URL and SAML 1.1 support, uses one certificate for signing and
// encryption) and state that requests are signed and assertions must be.
import saml2 from 'saml2-js';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { NS } from './xml.ts';
import { ALLOWED_CONTENT_ENCRYPTION, ALLOWED_KEY_TRANSPORT } from './decrypt.ts';

export interface MetadataOptions {
  entityId: string;
  acsUrl: string;
  signingKey: string;
  signingCert: string;
  encryptionCert: string;
  nameIdFormat: string;
}

function certBody(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

export function spMetadata(options: MetadataOptions): string {
  const sp = new saml2.ServiceProvider({
    entity_id: options.entityId,
    private_key: options.signingKey,
    certificate: options.signingCert,
    assert_endpoint: options.acsUrl,
  });
  const doc = new DOMParser().parseFromString(sp.create_metadata(), 'text/xml');
  const descriptor = doc.getElementsByTagNameNS(NS.md, 'SPSSODescriptor')[0] as Element | undefined;
  if (!descriptor) throw new Error('saml2-js metadata has no SPSSODescriptor');
  descriptor.setAttribute('protocolSupportEnumeration', 'urn:oasis:names:tc:SAML:2.0:protocol');
  descriptor.setAttribute('AuthnRequestsSigned', 'true');
  descriptor.setAttribute('WantAssertionsSigned', 'true');
  for (const slo of Array.from(descriptor.getElementsByTagNameNS(NS.md, 'SingleLogoutService')))
    descriptor.removeChild(slo);
  const acs = descriptor.getElementsByTagNameNS(NS.md, 'AssertionConsumerService')[0];
  for (const kd of Array.from(descriptor.getElementsByTagNameNS(NS.md, 'KeyDescriptor'))) {
    if (kd.getAttribute('use') !== 'encryption') continue;
    const cert = kd.getElementsByTagNameNS(NS.ds, 'X509Certificate')[0];
    if (cert) cert.textContent = certBody(options.encryptionCert);
    for (const alg of [...ALLOWED_CONTENT_ENCRYPTION, ...ALLOWED_KEY_TRANSPORT]) {
      const m = doc.createElementNS(NS.md, 'md:EncryptionMethod');
      m.setAttribute('Algorithm', alg);
      kd.appendChild(m);
    }
  }
  const format = doc.createElementNS(NS.md, 'md:NameIDFormat');
  format.textContent = options.nameIdFormat;
  if (acs) descriptor.insertBefore(format, acs);
  return new XMLSerializer().serializeToString(doc);
}

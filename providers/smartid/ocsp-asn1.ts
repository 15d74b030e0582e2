// OCSP (RFC 6960) as both ends encode it: the CertID that names a certificate to its issuer's responder
// and the nonce extension (RFC 8954) that binds a response to one request. Used by the gateway's check
// (./revocation.ts) and by the test RP API's responder.
import { createHash, type X509Certificate } from 'node:crypto';
import '../../src/tls/reflect-shim.ts';
import { CertID, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Extension } from '@peculiar/asn1-x509';

/** SHA-1 for the CertID: what every responder must understand (RFC 5019 2.1.1); the response signature binds it. */
const SHA1 = '1.3.14.3.2.26';

export const parseCertificate = (cert: X509Certificate): Certificate => AsnConvert.parse(cert.raw, Certificate);

/** issuerNameHash and issuerKeyHash of `issuer`, serialNumber of `cert`. */
export function certIdOf(cert: X509Certificate, issuer: X509Certificate): CertID {
  const issuerTbs = parseCertificate(issuer).tbsCertificate;
  const sha1 = (data: ArrayBuffer) => new OctetString(createHash('sha1').update(Buffer.from(data)).digest());
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: sha1(AsnConvert.serialize(issuerTbs.subject)),
    issuerKeyHash: sha1(issuerTbs.subjectPublicKeyInfo.subjectPublicKey),
    serialNumber: parseCertificate(cert).tbsCertificate.serialNumber,
  });
}

const hex = (b: ArrayBuffer | ArrayBufferView) =>
  Buffer.from(b instanceof ArrayBuffer ? b : b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)).toString('hex');

/** Two CertIDs name the same certificate (same hash algorithm, issuer hashes and serial). */
export function sameCertId(a: CertID, b: CertID): boolean {
  return (
    a.hashAlgorithm.algorithm === b.hashAlgorithm.algorithm &&
    hex(a.issuerNameHash.buffer) === hex(b.issuerNameHash.buffer) &&
    hex(a.issuerKeyHash.buffer) === hex(b.issuerKeyHash.buffer) &&
    hex(a.serialNumber) === hex(b.serialNumber)
  );
}

/** The nonce extension: its value is the DER of an OCTET STRING holding the nonce (RFC 8954). */
export const nonceExtension = (nonce: Buffer): Extension =>
  new Extension({
    extnID: id_pkix_ocsp_nonce,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
  });

/** The nonce among extensions, if any. */
export function nonceOf(extensions: readonly Extension[] | undefined): Buffer | undefined {
  const ext = extensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (!ext) return undefined;
  const inner = AsnConvert.parse(ext.extnValue.buffer, OctetString);
  return Buffer.from(inner.buffer);
}

// For the tests of the checks a Smart-ID relying party makes on a completed RP API v3 session
// (./checks.test.ts): authentication certificates the test CA (./test-rp-api/ca.ts) never issues, because
// each carries a defect the relying party must refuse (a subject C other than the serialNumber's country, a
// leaf not valid yet, a leaf that is itself a CA, a leaf under an issuing CA that has expired), and the test
// phone's answer to a running session signed with such a certificate. The answer is signed exactly as the
// test peer signs every answer (./test-rp-api/sessions.ts: ACSP_V2 payload, RSASSA-PSS), so the only
// defect in it is the one the test asks for.
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import '../../src/tls/reflect-shim.ts';
import type * as X509 from '@peculiar/x509';
import { DAY, newKeys, RSA, serial, type Crypto } from './test-rp-api/cert-parts.ts';
import { EKU_SMART_ID_AUTH, POLICY } from './certificate.ts';
import type { IssuedCertificate, TestCa } from './test-rp-api/ca.ts';
import type { TestRpApi } from './test-rp-api/server.ts';
import { completion, type TestSession } from './test-rp-api/sessions.ts';

const x509: typeof X509 = await import('@peculiar/x509');

/** A CA that signs: its key and certificate (the shape of TestCa's root and issuing CA). */
export interface Signer {
  privateKey: webcrypto.CryptoKey;
  cert: X509.X509Certificate;
}

export interface Person {
  semanticsIdentifier: string;
  givenName: string;
  surname: string;
}

/** The one defect of a leaf; without any, a certificate the relying party accepts. */
export interface LeafDefects {
  /** the subject's C (default: the country of the serialNumber) */
  country?: string;
  /** notBefore tomorrow */
  notYetValid?: boolean;
  /** basicConstraints cA=true, with keyUsage keyCertSign besides digitalSignature ('signs': a CA that could
   * sign certificates) or without it ('flag': Node's X509Certificate.ca then says false) */
  isCa?: 'signs' | 'flag';
  /** issued by this CA instead of the test CA's issuing CA */
  issuer?: Signer;
}

/** A qualified Smart-ID authentication certificate for `person` with the defects asked for. */
export async function issueLeaf(ca: TestCa, person: Person, defects: LeafDefects = {}): Promise<IssuedCertificate> {
  const keys = await newKeys();
  const issuer = defects.issuer ?? ca.issuing;
  const now = Date.now();
  const subject = new x509.Name([
    { '2.5.4.6': [{ printableString: defects.country ?? person.semanticsIdentifier.slice(3, 5) }] },
    { '2.5.4.3': [{ utf8String: `${person.surname},${person.givenName},${person.semanticsIdentifier}` }] },
    { '2.5.4.4': [{ utf8String: person.surname }] },
    { '2.5.4.42': [{ utf8String: person.givenName }] },
    { '2.5.4.5': [{ printableString: person.semanticsIdentifier }] },
    { '2.5.4.11': [{ utf8String: 'AUTHENTICATION' }] },
  ]);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject,
      issuer: issuer.cert.subject,
      notBefore: new Date(now + (defects.notYetValid ? 1 : -1) * DAY),
      notAfter: new Date(now + 1095 * DAY),
      signingAlgorithm: RSA,
      publicKey: keys.publicKey as never,
      signingKey: issuer.privateKey as never,
      extensions: [
        new x509.BasicConstraintsExtension(defects.isCa !== undefined, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | (defects.isCa === 'signs' ? x509.KeyUsageFlags.keyCertSign : 0),
          true,
        ),
        new x509.CertificatePolicyExtension([...POLICY.qualified]),
        new x509.ExtendedKeyUsageExtension([EKU_SMART_ID_AUTH]),
      ],
    },
    webcrypto as unknown as Crypto,
  );
  const privateKey = createPrivateKey({
    key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    format: 'der',
    type: 'pkcs8',
  });
  return { certificate: new X509Certificate(Buffer.from(cert.rawData)), privateKey, pem: cert.toString('pem') };
}

/**
 * An issuing CA under the test CA's root that expired yesterday (an SK intermediate an operator left in
 * `ca_certificates`): `pem` is what the entry configures beside the test CA's own.
 */
export async function expiredIssuingCa(ca: TestCa): Promise<Signer & { pem: string }> {
  const keys = await newKeys();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: 'CN=TEST of SK ID Solutions EID-Q 2016E, O=SK ID Solutions AS, C=EE',
      issuer: ca.root.cert.subject,
      notBefore: new Date(now - 3000 * DAY),
      notAfter: new Date(now - DAY),
      signingAlgorithm: RSA,
      publicKey: keys.publicKey as never,
      signingKey: ca.root.privateKey as never,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    },
    webcrypto as unknown as Crypto,
  );
  return { privateKey: keys.privateKey, cert, pem: `${cert.toString('pem')}\n` };
}

/** The phone confirms a running session, the app signing with `cert` (what `act(id, 'confirm')` does with the account's own). */
export function answerWith(api: TestRpApi, session: TestSession, cert: IssuedCertificate): void {
  if (session.result) throw new Error('the session has already ended');
  session.result = completion(session, 'confirm', cert, api.options.schemeName ?? 'smart-id-demo');
  for (const wake of session.waiters.splice(0)) wake();
}

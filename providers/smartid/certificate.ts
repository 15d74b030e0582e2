// Every check a Smart-ID relying party makes on the authentication certificate (SK ID Solutions, RP API
// "What the relying party must verify"): issued by one of the configured SK CAs (and theirs by theirs),
// all of them valid now, the qualified or non-qualified policy OIDs (which decide the level, never the
// unsigned `certificateLevel` field), keyUsage digitalSignature, the Smart-ID authentication EKU (or
// clientAuth on certificates from before April 2025), and the person from the subject.
import { X509Certificate } from 'node:crypto';
import '../../src/tls/reflect-shim.ts';
import type * as X509 from '@peculiar/x509';
import { ProviderError } from '../../src/broker/adapter.ts';

// Loaded dynamically so the Reflect stand-in @peculiar/x509 needs (via tsyringe) is installed first.
const x509: typeof X509 = await import('@peculiar/x509');

export const POLICY = {
  /** Smart-ID qualified and QCP-n-qscd (ETSI EN 319 411-2) */
  qualified: ['1.3.6.1.4.1.10015.17.2', '0.4.0.2042.1.2'],
  /** Smart-ID non-qualified and NCP+ (ETSI EN 319 411-1) */
  advanced: ['1.3.6.1.4.1.10015.17.1', '0.4.0.2042.1.1'],
} as const;
export const EKU_SMART_ID_AUTH = '1.3.6.1.4.1.62306.5.7.0';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

export type CertificateLevel = 'QUALIFIED' | 'ADVANCED';
export const LEVEL_RANK: Record<CertificateLevel, number> = { ADVANCED: 1, QUALIFIED: 2 };

export interface VerifiedCertificate {
  certificate: X509Certificate;
  level: CertificateLevel;
  /** the subject's serialNumber, e.g. PNOLV-030303-10004 */
  semanticsIdentifier: string;
  givenName: string;
  surname: string;
  country: string;
}

const refuse = (detail: string): never => {
  throw new ProviderError('invalid_response', `Smart-ID certificate: ${detail}`);
};

function validNow(cert: X509Certificate, what: string, now: number): void {
  if (Date.parse(cert.validFrom) > now) refuse(`${what} is not valid yet`);
  if (Date.parse(cert.validTo) < now) refuse(`${what} has expired`);
}

/** The configured CA that issued `cert` (name and signature), if any. */
const issuerOf = (cert: X509Certificate, cas: readonly X509Certificate[]) =>
  cas.find((ca) => ca.ca && cert.checkIssued(ca) && cert.verify(ca.publicKey));

/** The chain from the leaf up through the configured CAs only; every link valid now. */
function checkChain(leaf: X509Certificate, cas: readonly X509Certificate[], now: number): void {
  let current = leaf;
  let issuer = issuerOf(current, cas);
  if (!issuer) refuse('not issued by a configured SK CA');
  for (let depth = 0; issuer && depth < 5; depth += 1) {
    validNow(issuer, `issuing CA ${issuer.subject.replace(/\n/g, ', ')}`, now);
    if (issuer.checkIssued(issuer)) return; // a configured root
    current = issuer;
    issuer = issuerOf(current, cas);
    // a configured intermediate is a trust anchor by itself: its own issuer need not be configured
    if (!issuer) return;
  }
}

function levelOf(policies: readonly string[]): CertificateLevel | undefined {
  const has = (oids: readonly string[]) => oids.every((oid) => policies.includes(oid));
  if (has(POLICY.qualified)) return 'QUALIFIED';
  if (has(POLICY.advanced)) return 'ADVANCED';
  return undefined;
}

const field = (name: X509.Name, oid: string): string | undefined => {
  const values = name.getField(oid);
  return values.length === 1 ? values[0] : undefined;
};

/**
 * Verify the authentication certificate (base64 DER) against the configured CAs and the required level.
 * Throws ProviderError('invalid_response') naming the defect; the detail carries no personal data.
 */
export function verifyCertificate(
  derBase64: unknown,
  cas: readonly X509Certificate[],
  required: CertificateLevel,
  now = Date.now(),
): VerifiedCertificate {
  if (typeof derBase64 !== 'string' || derBase64.length > 16_384) return refuse('missing or oversized');
  let certificate: X509Certificate;
  let parsed: X509.X509Certificate;
  try {
    const der = Buffer.from(derBase64, 'base64');
    certificate = new X509Certificate(der);
    parsed = new x509.X509Certificate(der);
  } catch {
    return refuse('not a DER X.509 certificate');
  }
  validNow(certificate, 'certificate', now);
  checkChain(certificate, cas, now);
  // Node's X509Certificate.ca is false for cA=TRUE without keyCertSign: the extension decides (RFC 5280 4.2.1.9)
  if (certificate.ca || parsed.getExtension(x509.BasicConstraintsExtension)?.ca) refuse('is a CA certificate');

  const policies = parsed.getExtension(x509.CertificatePolicyExtension)?.policies ?? [];
  const level = levelOf(policies);
  if (!level) refuse('carries neither the qualified nor the non-qualified Smart-ID policy');
  if (LEVEL_RANK[level!] < LEVEL_RANK[required]) refuse(`level ${level} is below the required ${required}`);

  const keyUsage = parsed.getExtension(x509.KeyUsagesExtension);
  if (!keyUsage || !(keyUsage.usages & x509.KeyUsageFlags.digitalSignature)) refuse('keyUsage lacks digitalSignature');
  const eku = (parsed.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? []).map(String);
  if (!eku.includes(EKU_SMART_ID_AUTH) && !eku.includes(EKU_CLIENT_AUTH))
    refuse('extendedKeyUsage allows neither Smart-ID authentication nor clientAuth');

  const subject = parsed.subjectName;
  const semanticsIdentifier = field(subject, '2.5.4.5');
  const givenName = field(subject, '2.5.4.42');
  const surname = field(subject, '2.5.4.4');
  const country = field(subject, '2.5.4.6');
  if (!semanticsIdentifier || !/^PNO[A-Z]{2}-/.test(semanticsIdentifier))
    refuse('subject serialNumber is not a PNO semantics identifier');
  if (!givenName || !surname || !country) refuse('subject lacks GN, SN or C');
  if (semanticsIdentifier!.slice(3, 5) !== country) refuse('subject C differs from the serialNumber country');
  return {
    certificate,
    level: level!,
    semanticsIdentifier: semanticsIdentifier!,
    givenName: givenName!,
    surname: surname!,
    country: country!,
  };
}

// A tiny certificate authority for development and tests: a CA, server and client certificates with
// chosen names and validity windows (so tests can make expired, not-yet-valid or wrong-CA material).
// Never used for production material; production certificates come from the agencies' real PKI.
import { webcrypto, createHash, createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import './reflect-shim.ts';
import type * as X509 from '@peculiar/x509';

// Loaded dynamically so the Reflect stand-in is installed first (a static import of this CommonJS
// package may be evaluated before any of this module's code, e.g. under jest).
const x509: typeof X509 = await import('@peculiar/x509');

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type SignAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeySpec = { type: 'ec' } | { type: 'rsa'; bits: number };

export interface IssuedCertificate {
  /** PEM of the certificate */
  cert: string;
  /** PKCS#8 PEM of the private key */
  key: string;
  /** SHA-256 of the SubjectPublicKeyInfo, base64: the value a pin list holds */
  spkiPin: string;
}

export interface CertificateAuthority extends IssuedCertificate {
  name: string;
  /** internal: signing key and parsed certificate */
  readonly signer: { key: CryptoKey; cert: X509.X509Certificate; hash: HashName };
}

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-1';

export interface CertificateOptions {
  /** subject common name */
  commonName: string;
  /** extra subject attributes, e.g. `O=Example Agency` (comma separated, RFC 4514 order) */
  subjectSuffix?: string;
  notBefore?: Date;
  notAfter?: Date;
  key?: KeySpec;
  /** signature hash (SHA-1 only to test refusals) */
  hash?: HashName;
  /** CA certificates only: BasicConstraints pathLen, how many intermediate CAs may follow (default 0) */
  pathLength?: number;
}

export interface LeafOptions extends CertificateOptions {
  usage: 'server' | 'client' | 'both';
  dnsNames?: string[];
  ipAddresses?: string[];
}

const DAY = 86_400_000;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** SHA-256 of the certificate's SubjectPublicKeyInfo (DER), base64: the HPKP-style pin. */
export function spkiPinOf(certPem: string | Buffer): string {
  const spki = new NodeX509(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

async function generateKeys(spec: KeySpec, hash: HashName): Promise<{ keys: CryptoKeyPair; sign: SignAlgorithm }> {
  if (spec.type === 'ec') {
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    return { keys, sign: { name: 'ECDSA', hash } as SignAlgorithm };
  }
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash, modulusLength: spec.bits, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, sign: { name: 'RSASSA-PKCS1-v1_5', hash } as SignAlgorithm };
}

function validity(opts: CertificateOptions, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + defaultDays * DAY);
  return { notBefore, notAfter };
}

function subjectName(opts: CertificateOptions): string {
  // Escape RFC 4514 special characters in the common name so a name never smuggles extra attributes.
  const cn = opts.commonName.replace(/([,+"\\<>;=])/g, '\\$1');
  return opts.subjectSuffix ? `CN=${cn}, ${opts.subjectSuffix}` : `CN=${cn}`;
}

async function finish(cert: X509.X509Certificate, keys: CryptoKeyPair): Promise<IssuedCertificate> {
  const certPem = `${cert.toString('pem')}\n`;
  const key = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: certPem, key, spkiPin: spkiPinOf(certPem) };
}

/** Issuer, signing key and algorithm of a certificate that `ca` signs. */
function signedBy(ca: CertificateAuthority, hash: HashName) {
  const signingAlgorithm = { name: ca.signer.key.algorithm.name, hash } as SignAlgorithm;
  return { issuer: ca.signer.cert.subject, signingKey: ca.signer.key, signingAlgorithm };
}

/** BasicConstraints (CA, pathLen), keyCertSign/cRLSign and the subject key identifier of a CA. */
async function caExtensions(opts: CertificateOptions, publicKey: CryptoKey): Promise<X509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(true, opts.pathLength ?? 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(publicKey),
  ];
}

async function authority(
  cert: X509.X509Certificate,
  keys: CryptoKeyPair,
  opts: CertificateOptions,
  hash: HashName,
): Promise<CertificateAuthority> {
  return { ...(await finish(cert, keys)), name: opts.commonName, signer: { key: keys.privateKey, cert, hash } };
}

/** A self-signed CA certificate (default: ten years, EC P-256). */
export async function createCa(opts: CertificateOptions): Promise<CertificateAuthority> {
  const hash = opts.hash ?? 'SHA-256';
  const { keys, sign } = await generateKeys(opts.key ?? { type: 'ec' }, hash);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(opts),
    keys,
    signingAlgorithm: sign,
    ...validity(opts, 3650),
    extensions: await caExtensions(opts, keys.publicKey),
  });
  return authority(cert, keys, opts, hash);
}

/** An intermediate CA signed by `parent` (default: five years, EC P-256, pathLen 0). */
export async function issueIntermediateCa(
  parent: CertificateAuthority,
  opts: CertificateOptions,
): Promise<CertificateAuthority> {
  const hash = opts.hash ?? 'SHA-256';
  const { keys } = await generateKeys(opts.key ?? { type: 'ec' }, hash);
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectName(opts),
    publicKey: keys.publicKey,
    ...signedBy(parent, hash),
    ...validity(opts, 1825),
    extensions: [
      ...(await caExtensions(opts, keys.publicKey)),
      await x509.AuthorityKeyIdentifierExtension.create(parent.signer.cert),
    ],
  });
  return authority(cert, keys, opts, hash);
}

/** A leaf certificate signed by `ca` (default: one year, EC P-256). */
export async function issueCertificate(ca: CertificateAuthority, opts: LeafOptions): Promise<IssuedCertificate> {
  const hash = opts.hash ?? 'SHA-256';
  const { keys } = await generateKeys(opts.key ?? { type: 'ec' }, hash);
  const usages: string[] = [];
  if (opts.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const names: X509.JsonGeneralName[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.signer.cert),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectName(opts),
    publicKey: keys.publicKey,
    ...signedBy(ca, hash),
    ...validity(opts, 365),
    extensions,
  });
  return finish(cert, keys);
}

/** Re-open a CA written earlier (the dev PKI keeps its CA so reruns issue from the same root). */
export async function loadCa(
  certPem: string,
  keyPem: string,
  hash: HashName = 'SHA-256',
): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const nodeKey = createPrivateKey(keyPem);
  const der = nodeKey.export({ type: 'pkcs8', format: 'der' });
  const alg =
    nodeKey.asymmetricKeyType === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : nodeKey.asymmetricKeyType === 'rsa'
        ? { name: 'RSASSA-PKCS1-v1_5', hash }
        : undefined;
  if (!alg) throw new Error(`unsupported CA key type ${nodeKey.asymmetricKeyType ?? 'unknown'}`);
  const key = await webcrypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  return {
    cert: certPem,
    key: keyPem,
    spkiPin: spkiPinOf(certPem),
    name: cert.subjectName.getField('CN')[0] ?? cert.subject,
    signer: { key, cert, hash },
  };
}

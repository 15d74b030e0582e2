// The test RP API's own certificate hierarchy, shaped like SK's demo one ("TEST of …"): a root, an issuing
// CA for Smart-ID authentication certificates, and the certificates of the demo accounts. Certificates can
// be issued with the defects a relying party must refuse (expired, wrong policy, no EKU...), and a
// TLS server certificate for the RP API itself.
import { createPrivateKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import '../../../src/tls/reflect-shim.ts';
import type * as X509 from '@peculiar/x509';
import { DAY, newKeys, RSA, serial, type Crypto } from './cert-parts.ts';
import { EKU_CLIENT_AUTH, EKU_SMART_ID_AUTH, POLICY, type CertificateLevel } from '../certificate.ts';

const x509: typeof X509 = await import('@peculiar/x509');

type Keys = webcrypto.CryptoKeyPair;

export interface IssuedCertificate {
  certificate: X509Certificate;
  privateKey: KeyObject;
  pem: string;
}

/** Defects a relying party must refuse, for the certificate of one account. */
export interface CertificateOptions {
  level?: CertificateLevel;
  /** replaces the policy OIDs the level implies */
  policies?: string[];
  expired?: boolean;
  /** issued by another CA hierarchy than the one the gateway trusts */
  foreignIssuer?: boolean;
  /** Smart-ID auth (default), clientAuth (pre-2025 certificates), or none */
  eku?: 'smart-id' | 'client-auth' | 'none';
  /** no digitalSignature in keyUsage */
  noDigitalSignature?: boolean;
  /** the certificate names another person than the account's */
  subject?: { semanticsIdentifier: string; givenName: string; surname: string };
  /** the subject's C (default: the country of the serialNumber) */
  country?: string;
  /** notBefore tomorrow */
  notYetValid?: boolean;
  /** basicConstraints cA=TRUE, with keyUsage keyCertSign besides digitalSignature ('signs': a CA that could
   * sign certificates) or without it ('flag': Node's X509Certificate.ca then says false) */
  isCa?: 'signs' | 'flag';
  /** issued by this CA instead of the hierarchy's issuing CA */
  issuer?: Authority;
}

const nodeKey = async (keys: Keys) =>
  createPrivateKey({
    key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)),
    format: 'der',
    type: 'pkcs8',
  });
const asNode = (c: X509.X509Certificate) => new X509Certificate(Buffer.from(c.rawData));

/** A CA that signs: its key and certificate. */
export interface Authority {
  privateKey: webcrypto.CryptoKey;
  cert: X509.X509Certificate;
}

/** A root (no parent) or an intermediate under `parent`; `expired`: it expired yesterday. */
export async function authority(name: string, parent?: Authority, expired = false): Promise<Authority> {
  const keys = await newKeys();
  const now = Date.now();
  const extensions = [
    new x509.BasicConstraintsExtension(true, parent ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  const common = {
    serialNumber: serial(),
    notBefore: new Date(now - (expired ? 3000 : 1) * DAY),
    notAfter: new Date(now + (expired ? -1 : 3650) * DAY),
    signingAlgorithm: RSA,
    extensions,
  };
  const cert = parent
    ? await x509.X509CertificateGenerator.create(
        {
          ...common,
          subject: name,
          issuer: parent.cert.subject,
          publicKey: keys.publicKey as never,
          signingKey: parent.privateKey as never,
        },
        webcrypto as unknown as Crypto,
      )
    : await x509.X509CertificateGenerator.createSelfSigned(
        { ...common, name, keys: keys as never },
        webcrypto as unknown as Crypto,
      );
  return { privateKey: keys.privateKey, cert };
}

export class TestCa {
  readonly root: Authority;
  readonly issuing: Authority;
  private foreign: Promise<TestCa> | undefined;

  private constructor(root: Authority, issuing: Authority) {
    this.root = root;
    this.issuing = issuing;
  }

  static async create(label = 'TEST of SK ID Solutions'): Promise<TestCa> {
    const root = await authority(`CN=${label} ROOT G1E, O=SK ID Solutions AS, C=EE`);
    const issuing = await authority(`CN=${label} EID-Q 2024R, O=SK ID Solutions AS, C=EE`, root);
    return new TestCa(root, issuing);
  }

  /** Keep the hierarchy in `dir` (the issuing CA's key included) so a later start issues under the same CAs. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', this.issuing.privateKey)).toString('base64');
    await writeFile(
      join(dir, 'issuing.key.pem'),
      `-----BEGIN PRIVATE KEY-----\n${key.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`,
      { mode: 0o600 },
    );
    await writeFile(join(dir, 'issuing.cert.pem'), this.issuing.cert.toString('pem'));
    await writeFile(join(dir, 'root.cert.pem'), this.root.cert.toString('pem'));
    await writeFile(join(dir, 'ca.pem'), this.pem);
  }

  /** The hierarchy kept in `dir`, or a new one saved there. */
  static async loadOrCreate(dir: string): Promise<TestCa> {
    try {
      const keyPem = await readFile(join(dir, 'issuing.key.pem'), 'utf8');
      const der = Buffer.from(keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
      const privateKey = await webcrypto.subtle.importKey('pkcs8', der, RSA, true, ['sign']);
      const issuing = new x509.X509Certificate(await readFile(join(dir, 'issuing.cert.pem'), 'utf8'));
      const root = new x509.X509Certificate(await readFile(join(dir, 'root.cert.pem'), 'utf8'));
      return new TestCa({ privateKey, cert: root }, { privateKey, cert: issuing });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      const ca = await TestCa.create();
      await ca.save(dir);
      return ca;
    }
  }

  /** The CA certificates a gateway configures as `ca_certificates`. */
  get pem(): string {
    return `${this.issuing.cert.toString('pem')}\n${this.root.cert.toString('pem')}\n`;
  }

  /** An authentication certificate for a person, with the defects asked for. */
  async issuePerson(
    person: { semanticsIdentifier: string; givenName: string; surname: string },
    options: CertificateOptions = {},
  ): Promise<IssuedCertificate> {
    if (options.foreignIssuer) {
      this.foreign ??= TestCa.create('TEST of Rogue Issuer');
      return (await this.foreign).issuePerson(person, { ...options, foreignIssuer: false });
    }
    if (options.subject) return this.issuePerson(options.subject, { ...options, subject: undefined });
    const keys = await newKeys();
    const now = Date.now();
    const level = options.level ?? 'QUALIFIED';
    const policies = options.policies ?? [...(level === 'QUALIFIED' ? POLICY.qualified : POLICY.advanced)];
    const eku = options.eku ?? 'smart-id';
    const signs = options.isCa === 'signs' ? x509.KeyUsageFlags.keyCertSign : 0;
    const usage =
      (options.noDigitalSignature ? x509.KeyUsageFlags.keyEncipherment : x509.KeyUsageFlags.digitalSignature) | signs;
    const issuer = options.issuer ?? this.issuing;
    const extensions: X509.Extension[] = [
      options.isCa
        ? new x509.BasicConstraintsExtension(true, undefined, true)
        : new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(usage, true),
      new x509.CertificatePolicyExtension(policies),
    ];
    if (eku !== 'none')
      extensions.push(new x509.ExtendedKeyUsageExtension([eku === 'smart-id' ? EKU_SMART_ID_AUTH : EKU_CLIENT_AUTH]));
    const country = options.country ?? person.semanticsIdentifier.slice(3, 5);
    const subject = new x509.Name([
      { '2.5.4.6': [{ printableString: country }] },
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
        notBefore: new Date(now + (options.expired ? -800 : options.notYetValid ? 1 : -1) * DAY),
        notAfter: new Date(now + (options.expired ? -1 : 1095) * DAY),
        signingAlgorithm: RSA,
        publicKey: keys.publicKey as never,
        signingKey: issuer.privateKey as never,
        extensions,
      },
      webcrypto as unknown as Crypto,
    );
    return { certificate: asNode(cert), privateKey: await nodeKey(keys), pem: cert.toString('pem') };
  }

  /** A TLS server certificate for the RP API at 127.0.0.1 / localhost. */
  async issueServer(): Promise<{ certPem: string; keyPem: string; chainPem: string }> {
    const keys = await newKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: serial(),
        subject: 'CN=localhost',
        issuer: this.issuing.cert.subject,
        notBefore: new Date(now - DAY),
        notAfter: new Date(now + 365 * DAY),
        signingAlgorithm: RSA,
        publicKey: keys.publicKey as never,
        signingKey: this.issuing.privateKey as never,
        extensions: [
          new x509.BasicConstraintsExtension(false),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']),
          new x509.SubjectAlternativeNameExtension([
            { type: 'ip', value: '127.0.0.1' },
            { type: 'dns', value: 'localhost' },
          ]),
        ],
      },
      webcrypto as unknown as Crypto,
    );
    const keyPem = (await nodeKey(keys)).export({ type: 'pkcs8', format: 'pem' }) as string;
    const certPem = `${cert.toString('pem')}\n`;
    return { certPem, keyPem, chainPem: `${certPem}${this.issuing.cert.toString('pem')}\n` };
  }
}

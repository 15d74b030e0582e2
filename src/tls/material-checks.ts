// Key material and algorithm checks behind the startup security checks: every PEM field, algorithm
// field and JWK below a config value, with the gateway's minimums (RSA 2048+, no SHA-1 outside `legacy`,
// no alg none, no RSA PKCS#1 v1.5 key transport) and certificate validity windows. A finding is a
// production error and a development warning (`policy`), or an error / warning anywhere.
import { join } from 'node:path';
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export const MIN_RSA_BITS = 2048;
export const DAY = 86_400_000;

export type Path = readonly (string | number)[];

/** Fields that hold PEM material (a file path or inline PEM): `cert`, `ca`, `key`, `private_key`, `bank_certificate`, `certificates[]`, `client_ca`... */
const PEM_FIELD = /(^|_)(ca|cert|certs|certificate|certificates|key|private_key)$/;
/** Fields that name an algorithm. */
const ALG_FIELD = /(^|_)(alg|algs|algorithm|algorithms|hash|digest)$/;
const SHA1 =
  /^(sha-?1|rsa-sha1|sha1withrsa(encryption)?|ecdsa-with-sha1|dsa-with-sha1|http:\/\/www\.w3\.org\/2000\/09\/xmldsig#(rsa-sha1|sha1|dsa-sha1))$/i;
/** RSA PKCS#1 v1.5 key transport (JWE RSA1_5, XML Encryption rsa-1_5): Bleichenbacher-prone */
const RSA15 = /^(rsa1_5|http:\/\/www\.w3\.org\/2001\/04\/xmlenc#rsa-1_5)$/i;

export interface Finding {
  severity: 'error' | 'warning';
  path: Path;
  message: string;
}

export class Checker {
  readonly findings: Finding[] = [];
  private readonly production: boolean;
  private readonly now: number;
  private readonly warnMs: number;
  private readonly readFile: (path: string) => Buffer;
  private readonly planned: (path: string) => boolean;

  /** `planned`: files generated before the gateway loads them (the demo's key material), so absent is fine */
  constructor(
    production: boolean,
    now: Date,
    warningDays: number,
    readFile: (path: string) => Buffer,
    planned: (path: string) => boolean = () => false,
  ) {
    this.production = production;
    this.now = now.getTime();
    this.warnMs = warningDays * DAY;
    this.readFile = readFile;
    this.planned = planned;
  }

  /** a production error, a development warning */
  policy(path: Path, message: string): void {
    this.findings.push({ severity: this.production ? 'error' : 'warning', path, message });
  }
  error(path: Path, message: string): void {
    this.findings.push({ severity: 'error', path, message });
  }
  warning(path: Path, message: string): void {
    this.findings.push({ severity: 'warning', path, message });
  }

  /** Recursively inspect every PEM field, algorithm field and JWK below `value`. */
  walk(value: unknown, path: Path, ctx: { legacy: boolean; upstream: boolean }, field = ''): void {
    if (typeof value === 'string') {
      if (PEM_FIELD.test(field)) this.pemField(value, path);
      if (ALG_FIELD.test(field)) this.algorithm(value, path, ctx);
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) this.walk(item, [...path, i], ctx, field);
      return;
    }
    if (value && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if (typeof obj.kty === 'string') this.jwk(obj, path);
      for (const [k, v] of Object.entries(obj)) this.walk(v, [...path, k], ctx, k);
    }
  }

  /** A PEM file (or inline PEM) of certificates and keys, or a JWK / JWK Set file. `optional`: absent is fine (generated at start). */
  pemField(value: string, path: Path, optional = false): void {
    let text: string;
    if (value.includes('-----BEGIN ')) text = value;
    else {
      try {
        text = this.readFile(value).toString('utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!((optional || this.planned(value)) && code === 'ENOENT'))
          this.error(path, `cannot read file ${value}: ${code ?? 'error'}`);
        return;
      }
    }
    const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
    if (blocks.length === 0) {
      const jwks = parseJwks(text);
      if (jwks) {
        for (const jwk of jwks) this.jwk(jwk, path);
      } else this.error(path, 'no PEM certificate or key found');
      return;
    }
    for (const [pem, label] of blocks) {
      try {
        if (label === 'CERTIFICATE') this.certificate(new X509Certificate(pem), path);
        else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY')
          this.keySize(createPublicKey(pem), path, 'public key');
        else if (label === 'ENCRYPTED PRIVATE KEY' || pem.includes('Proc-Type: 4,ENCRYPTED'))
          continue; // size checked by its adapter once decrypted
        else if (label?.endsWith('PRIVATE KEY')) this.keySize(createPrivateKey(pem), path, 'private key');
      } catch (err) {
        this.error(path, `unreadable ${label?.toLowerCase()}: ${(err as Error).message}`);
      }
    }
  }

  private keySize(key: KeyObject, path: Path, what: string): void {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (
      (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') &&
      bits !== undefined &&
      bits < MIN_RSA_BITS
    ) {
      this.policy(path, `RSA ${what} of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
    }
    if (key.asymmetricKeyType === 'dsa') this.policy(path, `DSA ${what}; use RSA (${MIN_RSA_BITS}+ bits) or ECDSA`);
  }

  private certificate(cert: X509Certificate, path: Path): void {
    const who = cert.subject.replace(/\n/g, ', ');
    const notAfter = cert.validToDate.getTime();
    const notBefore = cert.validFromDate.getTime();
    if (notAfter <= this.now) this.policy(path, `certificate ${who} expired on ${cert.validToDate.toISOString()}`);
    else if (notAfter - this.now <= this.warnMs)
      this.warning(
        path,
        `certificate ${who} expires on ${cert.validToDate.toISOString()}, within ${Math.round(this.warnMs / DAY)} days`,
      );
    if (notBefore > this.now)
      this.policy(path, `certificate ${who} is not valid before ${cert.validFromDate.toISOString()}`);
    this.keySize(cert.publicKey, path, `key of certificate ${who}`);
    // A self-signed trust anchor's own signature is never relied on, so only issued certificates count.
    const selfSigned = cert.issuer === cert.subject && cert.checkIssued(cert);
    if (!selfSigned && /sha1/i.test(cert.signatureAlgorithm ?? '')) {
      this.policy(path, `certificate ${who} is signed with ${cert.signatureAlgorithm}, a weak algorithm`);
    }
  }

  jwk(jwk: Record<string, unknown>, path: Path, what = 'JWK'): void {
    if (jwk.kty !== 'RSA' || typeof jwk.n !== 'string') return;
    try {
      this.keySize(
        createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: String(jwk.e ?? 'AQAB') }, format: 'jwk' }),
        path,
        what,
      );
    } catch {
      this.error(path, `unreadable RSA ${what}`);
    }
  }

  /** The token signing keys: every `*.jwk.json` in `keys.dir` (a missing directory is created with fresh keys at start). */
  keyDirectory(dir: string, path: Path, listDir: (path: string) => string[]): void {
    let names: string[];
    try {
      names = listDir(dir)
        .filter((f) => f.endsWith('.jwk.json'))
        .sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.error(path, `cannot read directory ${dir}: ${code ?? 'error'}`);
      return;
    }
    for (const name of names) {
      let jwk: unknown;
      try {
        jwk = JSON.parse(this.readFile(join(dir, name)).toString('utf8'));
      } catch {
        this.error(path, `${name}: unreadable JWK file`);
        continue;
      }
      if (jwk && typeof jwk === 'object') this.jwk(jwk as Record<string, unknown>, path, `JWK ${name}`);
    }
  }

  algorithm(value: string, path: Path, ctx: { legacy: boolean; upstream: boolean }): void {
    if (value.toLowerCase() === 'none') this.policy(path, 'alg none is never accepted');
    else if (ctx.upstream && /^HS\d+$/i.test(value))
      this.policy(path, `${value} (a shared-secret MAC) is not accepted for upstream tokens`);
    else if (RSA15.test(value)) this.policy(path, `${value} (RSA PKCS#1 v1.5 key transport) is a weak algorithm`);
    else if (SHA1.test(value)) this.sha1(path, ctx.legacy);
  }

  sha1(path: Path, legacy: boolean): void {
    if (legacy)
      this.warning(path, 'SHA-1 is a weak algorithm, accepted only because this provider is marked legacy: true');
    else this.policy(path, 'SHA-1 is a weak algorithm; allowed only for a provider marked legacy: true');
  }
}

/** A JWK or JWK Set in a file (the auditor key may be one), else undefined. */
function parseJwks(text: string): Record<string, unknown>[] | undefined {
  try {
    const v = JSON.parse(text) as { kty?: unknown; keys?: unknown };
    if (typeof v?.kty === 'string') return [v as Record<string, unknown>];
    if (Array.isArray(v?.keys)) return v.keys.filter((k): k is Record<string, unknown> => !!k && typeof k === 'object');
  } catch {
    // not JSON
  }
  return undefined;
}

// The seed's security levels, checked once at startup against the loaded configuration. Pure apart
// from reading the PEM files the configuration names. Every finding names its exact config path:
//   providers[2].tls: a provider with a back channel needs mutual TLS in production
// In production every finding is an error (the gateway refuses to start) except certificates that
// expire soon and SHA-1 explicitly allowed by `legacy: true` (warnings). In development they are
// warnings, except NODE_TLS_REJECT_UNAUTHORIZED=0 and unreadable key material, which are errors anywhere.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { formatPath } from '../config/path.ts';

/** Optional `security:` block of the configuration file. */
export const securitySchema = z.strictObject({
  /** warn about certificates that expire within this many days */
  cert_expiry_warning_days: z.number().int().min(0).max(365).default(30),
});
export type SecurityConfig = z.infer<typeof securitySchema>;

/**
 * What the checks read. The loaded GatewayConfig fits as is: provider entries may be raw objects or
 * `{ factory, config }` pairs, and every adapter-specific field is inspected generically.
 */
export interface SecurityCheckInput {
  production: boolean;
  providers?: readonly unknown[];
  clients?: readonly unknown[];
  server?: unknown;
  security?: Partial<SecurityConfig>;
  /** the token signing keys (`*.jwk.json`); absent files are generated at start */
  keys?: { dir?: string };
  /** the audit log's keys; an absent checkpoint key is generated at start */
  audit?: { signing_key?: string; auditor_public_key?: string };
}

export interface SecurityCheckOptions {
  env?: Record<string, string | undefined>;
  now?: Date;
  /** overrides `security.cert_expiry_warning_days` */
  warningDays?: number;
  readFile?: (path: string) => Buffer;
  /** file names in a directory (default: node:fs readdirSync) */
  listDir?: (path: string) => string[];
}

export interface SecurityReport {
  errors: string[];
  warnings: string[];
}

export const MIN_RSA_BITS = 2048;
const DAY = 86_400_000;

type Path = readonly (string | number)[];


/** Fields that hold PEM material (a file path or inline PEM): `cert`, `ca`, `key`, `private_key`, `bank_certificate`, `certificates[]`, `client_ca`... */
const PEM_FIELD = /(^|_)(ca|cert|certs|certificate|certificates|key|private_key)$/;
/** Fields that name an algorithm. */
const ALG_FIELD = /(^|_)(alg|algs|algorithm|algorithms|hash|digest)$/;
const SHA1 = /^(sha-?1|rsa-sha1|sha1withrsa(encryption)?|ecdsa-with-sha1|dsa-with-sha1|http:\/\/www\.w3\.org\/2000\/09\/xmldsig#(rsa-sha1|sha1|dsa-sha1))$/i;
/** RSA PKCS#1 v1.5 key transport (JWE RSA1_5, XML Encryption rsa-1_5): Bleichenbacher-prone */
const RSA15 = /^(rsa1_5|http:\/\/www\.w3\.org\/2001\/04\/xmlenc#rsa-1_5)$/i;

interface Finding {
  severity: 'error' | 'warning';
  path: Path;
  message: string;
}

class Checker {
  readonly findings: Finding[] = [];
  private readonly production: boolean;
  private readonly now: number;
  private readonly warnMs: number;
  private readonly readFile: (path: string) => Buffer;

  constructor(production: boolean, now: Date, warningDays: number, readFile: (path: string) => Buffer) {
    this.production = production;
    this.now = now.getTime();
    this.warnMs = warningDays * DAY;
    this.readFile = readFile;
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
      value.forEach((item, i) => this.walk(item, [...path, i], ctx, field));
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
        if (!(optional && code === 'ENOENT')) this.error(path, `cannot read file ${value}: ${code ?? 'error'}`);
        return;
      }
    }
    const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g)];
    if (blocks.length === 0) {
      const jwks = parseJwks(text);
      if (jwks) jwks.forEach((jwk) => this.jwk(jwk, path));
      else this.error(path, 'no PEM certificate or key found');
      return;
    }
    for (const [pem, label] of blocks) {
      try {
        if (label === 'CERTIFICATE') this.certificate(new X509Certificate(pem), path);
        else if (label === 'PUBLIC KEY' || label === 'RSA PUBLIC KEY') this.keySize(createPublicKey(pem), path, 'public key');
        else if (label === 'ENCRYPTED PRIVATE KEY' || pem.includes('Proc-Type: 4,ENCRYPTED')) continue; // size checked by its adapter once decrypted
        else if (label?.endsWith('PRIVATE KEY')) this.keySize(createPrivateKey(pem), path, 'private key');
      } catch (err) {
        this.error(path, `unreadable ${label?.toLowerCase()}: ${(err as Error).message}`);
      }
    }
  }

  private keySize(key: KeyObject, path: Path, what: string): void {
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if ((key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') && bits !== undefined && bits < MIN_RSA_BITS) {
      this.policy(path, `RSA ${what} of ${bits} bits; at least ${MIN_RSA_BITS} are required`);
    }
    if (key.asymmetricKeyType === 'dsa') this.policy(path, `DSA ${what}; use RSA (${MIN_RSA_BITS}+ bits) or ECDSA`);
  }

  private certificate(cert: X509Certificate, path: Path): void {
    const who = cert.subject.replace(/\n/g, ', ');
    const notAfter = cert.validToDate.getTime();
    const notBefore = cert.validFromDate.getTime();
    if (notAfter <= this.now) this.policy(path, `certificate ${who} expired on ${cert.validToDate.toISOString()}`);
    else if (notAfter - this.now <= this.warnMs) this.warning(path, `certificate ${who} expires on ${cert.validToDate.toISOString()}, within ${Math.round(this.warnMs / DAY)} days`);
    if (notBefore > this.now) this.policy(path, `certificate ${who} is not valid before ${cert.validFromDate.toISOString()}`);
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
      this.keySize(createPublicKey({ key: { kty: 'RSA', n: jwk.n, e: String(jwk.e ?? 'AQAB') }, format: 'jwk' }), path, what);
    } catch {
      this.error(path, `unreadable RSA ${what}`);
    }
  }

  /** The token signing keys: every `*.jwk.json` in `keys.dir` (a missing directory is created with fresh keys at start). */
  keyDirectory(dir: string, path: Path, listDir: (path: string) => string[]): void {
    let names: string[];
    try {
      names = listDir(dir).filter((f) => f.endsWith('.jwk.json')).sort();
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
    else if (ctx.upstream && /^HS\d+$/i.test(value)) this.policy(path, `${value} (a shared-secret MAC) is not accepted for upstream tokens`);
    else if (RSA15.test(value)) this.policy(path, `${value} (RSA PKCS#1 v1.5 key transport) is a weak algorithm`);
    else if (SHA1.test(value)) this.sha1(path, ctx.legacy);
  }

  sha1(path: Path, legacy: boolean): void {
    if (legacy) this.warning(path, 'SHA-1 is a weak algorithm, accepted only because this provider is marked legacy: true');
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

/**
 * Providers whose adapter talks to the provider server to server. `oidc`: discovery, JWKS, PAR, token
 * and userinfo. `saml`: only when it fetches IdP metadata from `metadata_url`; otherwise its messages
 * travel through the browser (redirect/POST bindings), the IdP is configured from files, and it fetches
 * nothing (no artifact resolution, no SOAP single logout). `banklink` and `mock` are browser-only too.
 */
function hasBackChannel(entry: Record<string, unknown>): boolean {
  if (entry.type === 'oidc') return true;
  if (entry.type === 'saml') return typeof entry.metadata_url === 'string';
  return false;
}

/** Whether the listener that serves login pages asks browsers for a client certificate. */
function loginListenerRequestsCertificate(server: unknown): boolean {
  const s = server as { tls?: { client_ca?: unknown; request_client_certificate?: unknown }; mtls?: { port?: unknown } } | undefined;
  if (!s?.tls || s.mtls?.port !== undefined) return false;
  return s.tls.request_client_certificate === true || (s.tls.request_client_certificate === undefined && s.tls.client_ca !== undefined);
}

function providerConfig(entry: unknown): Record<string, unknown> | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const e = entry as Record<string, unknown>;
  // a loaded ProviderEntry ({ factory, config }) or the raw entry
  if ('factory' in e && e.config && typeof e.config === 'object') return e.config as Record<string, unknown>;
  return e;
}

export function checkSecurity(config: SecurityCheckInput, options: SecurityCheckOptions = {}): SecurityReport {
  const env = options.env ?? process.env;
  const warningDays = options.warningDays ?? config.security?.cert_expiry_warning_days ?? 30;
  const c = new Checker(config.production, options.now ?? new Date(), warningDays, options.readFile ?? ((p) => readFileSync(p)));

  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    c.error(['NODE_TLS_REJECT_UNAUTHORIZED'], 'set to 0, which turns off certificate verification for the whole process; unset it');
  }

  (config.providers ?? []).forEach((raw, i) => {
    const entry = providerConfig(raw);
    if (!entry) return;
    const at: Path = ['providers', i];
    const legacy = entry.legacy === true;
    if (config.production && hasBackChannel(entry) && !entry.tls) {
      c.error([...at, 'tls'], 'a provider with a back channel needs mutual TLS in production');
    }
    // banklink VK_VERSION 008 signs with SHA-1 without naming a hash
    if (entry.type === 'banklink' && entry.version === '008' && entry.hash === undefined) c.sha1([...at, 'version'], legacy);
    c.walk(entry, at, { legacy, upstream: true });
  });
  (config.clients ?? []).forEach((client, i) => c.walk(client, ['clients', i], { legacy: false, upstream: false }));
  if (config.server !== undefined) c.walk(config.server, ['server'], { legacy: false, upstream: false });
  if (loginListenerRequestsCertificate(config.server)) {
    c.warning(['server', 'tls'], 'client certificates are requested on the listener that serves login pages, so browsers may show a certificate prompt; configure server.mtls (a separate mutual-TLS listener)');
  }
  if (config.keys?.dir) c.keyDirectory(config.keys.dir, ['keys', 'dir'], options.listDir ?? ((p) => readdirSync(p)));
  if (config.audit?.signing_key) c.pemField(config.audit.signing_key, ['audit', 'signing_key'], true);
  if (config.audit?.auditor_public_key) c.pemField(config.audit.auditor_public_key, ['audit', 'auditor_public_key']);

  const lines = (severity: Finding['severity']) => c.findings.filter((f) => f.severity === severity).map((f) => `${formatPath(f.path)}: ${f.message}`);
  return { errors: lines('error'), warnings: lines('warning') };
}

/** Thrown by `assertSecure` when the gateway must not start. */
export class SecurityCheckError extends Error {
  override name = 'SecurityCheckError';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`refusing to start:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/** Startup gate: logs warnings through `warn`, throws SecurityCheckError listing every error. */
export function assertSecure(config: SecurityCheckInput, warn: (message: string) => void, options: SecurityCheckOptions = {}): void {
  const report = checkSecurity(config, options);
  for (const w of report.warnings) warn(w);
  if (report.errors.length > 0) throw new SecurityCheckError(report.errors);
}

// The gateway's security levels, checked once at startup against the loaded configuration. Pure apart
// from reading the PEM files the configuration names. Every finding names its exact config path:
//   providers[2].tls: a provider with a back channel needs mutual TLS in production
// In production every finding is an error (the gateway refuses to start) except certificates that
// expire soon and SHA-1 explicitly allowed by `legacy: true` (warnings). In development they are
// warnings, except NODE_TLS_REJECT_UNAUTHORIZED=0 and unreadable key material, which are errors anywhere.
import { readFileSync, readdirSync } from 'node:fs';
import { z } from 'zod';
import { formatPath } from '../config/path.ts';
import { Checker, type Finding, type Path } from './material-checks.ts';
import type { ProviderEntry } from '../config/load.ts';
import { backChannelProblems } from '../registry/factory.ts';

export { MIN_RSA_BITS } from './material-checks.ts';

/** Optional `security:` block of the configuration file. */
export const securitySchema = z.strictObject({
  /** warn about certificates that expire within this many days */
  cert_expiry_warning_days: z.number().int().min(0).max(365).default(30),
});
export type SecurityConfig = z.infer<typeof securitySchema>;

/**
 * What the checks read; the loaded GatewayConfig fits as is. A provider entry's key material is found by
 * field name (every PEM and algorithm field below it) and from what its kind declares (`keyMaterial`);
 * its kind's `backChannels` say whether it needs mutual TLS in production.
 */
export interface SecurityCheckInput {
  production: boolean;
  providers?: readonly ProviderEntry[];
  clients?: readonly unknown[];
  server?: unknown;
  /** the store: a Redis store's `ca`, `cert` and `key` files are checked like every other certificate */
  store?: unknown;
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
  /** files that `start` generates before it loads the configuration (the demo's key material): absent is fine */
  planned?: (path: string) => boolean;
}

export interface SecurityReport {
  errors: string[];
  warnings: string[];
}

/** Whether the listener that serves login pages asks browsers for a client certificate. */
function loginListenerRequestsCertificate(server: unknown): boolean {
  const s = server as
    | { tls?: { client_ca?: unknown; request_client_certificate?: unknown }; mtls?: { port?: unknown } }
    | undefined;
  if (!s?.tls || s.mtls?.port !== undefined) return false;
  return (
    s.tls.request_client_certificate === true ||
    (s.tls.request_client_certificate === undefined && s.tls.client_ca !== undefined)
  );
}

export function checkSecurity(config: SecurityCheckInput, options: SecurityCheckOptions = {}): SecurityReport {
  const env = options.env ?? process.env;
  const warningDays = options.warningDays ?? config.security?.cert_expiry_warning_days ?? 30;
  const checker = new Checker(
    config.production,
    options.now ?? new Date(),
    warningDays,
    options.readFile ?? ((p) => readFileSync(p)),
    options.planned,
  );

  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    checker.error(
      ['NODE_TLS_REJECT_UNAUTHORIZED'],
      'set to 0, which turns off certificate verification for the whole process; unset it',
    );
  }

  (config.providers ?? []).forEach(({ factory, config: entry }, i) => {
    const at: Path = ['providers', i];
    const legacy = 'legacy' in entry && entry.legacy === true;
    for (const problem of backChannelProblems(factory, entry, config.production))
      checker.error([...at, ...problem.path], problem.message);
    for (const material of factory.keyMaterial?.(entry) ?? []) {
      if ('pem' in material) checker.pemField(material.pem, [...at, ...material.path]);
      else checker.algorithm(material.algorithm, [...at, ...material.path], { legacy, upstream: true });
    }
    checker.walk(entry, at, { legacy, upstream: true });
  });
  for (const [i, client] of (config.clients ?? []).entries()) {
    checker.walk(client, ['clients', i], { legacy: false, upstream: false });
  }
  if (config.server !== undefined) checker.walk(config.server, ['server'], { legacy: false, upstream: false });
  if (config.store !== undefined) checker.walk(config.store, ['store'], { legacy: false, upstream: false });
  if (loginListenerRequestsCertificate(config.server)) {
    checker.warning(
      ['server', 'tls'],
      'client certificates are requested on the listener that serves login pages, so browsers may show a certificate prompt; configure server.mtls (a separate mutual-TLS listener)',
    );
  }
  if (config.keys?.dir)
    checker.keyDirectory(config.keys.dir, ['keys', 'dir'], options.listDir ?? ((p) => readdirSync(p)));
  if (config.audit?.signing_key) checker.pemField(config.audit.signing_key, ['audit', 'signing_key'], true);
  if (config.audit?.auditor_public_key)
    checker.pemField(config.audit.auditor_public_key, ['audit', 'auditor_public_key']);

  const lines = (severity: Finding['severity']) =>
    checker.findings.filter((f) => f.severity === severity).map((f) => `${formatPath(f.path)}: ${f.message}`);
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
export function assertSecure(
  config: SecurityCheckInput,
  warn: (message: string) => void,
  options: SecurityCheckOptions = {},
): void {
  const report = checkSecurity(config, options);
  for (const w of report.warnings) warn(w);
  if (report.errors.length > 0) throw new SecurityCheckError(report.errors);
}

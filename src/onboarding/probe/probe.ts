// `vpm-gateway providers probe ID`: the VPM joining conditions' three security levels checked against a
// provider as configured. (1) encryption with strong algorithms and (2) mutual authentication against
// every https endpoint its entry names (src/onboarding/probe/checks.ts); strong algorithms in what it
// sends or publishes: as configured (its certificates, keys and algorithms, checked as production mode
// checks them: RSA 2048+, no SHA-1) and as it publishes them live (./published.ts); (3) auditability: the gateway's signed audit log records its
// logins. A plain http endpoint fails level (1).
import { readFileSync } from 'node:fs';
import type { GatewayConfig, ProviderEntry } from '../../config/load.ts';
import { checkSecurity } from '../../tls/security-checks.ts';
import { type CheckResult, probeEndpoint } from './checks.ts';
import { type PublishedDocument, probePublished } from './published.ts';

export interface ProbeReport {
  provider: string;
  at: string;
  ok: boolean;
  endpoints: { url: string; ok: boolean; checks: CheckResult[] }[];
  /** what the entry's own key material and algorithms amount to, strictly */
  material: { ok: boolean; problems: string[]; notes: string[] };
  /** what it publishes, fetched live: discovery, JWKS, SAML metadata */
  published: { ok: boolean; documents: PublishedDocument[] };
  audit: { ok: boolean; detail: string };
}

/** Every absolute URL in the entry, one per origin: the endpoints the gateway or the browser reaches. */
export function endpointsOf(entry: unknown): URL[] {
  const origins = new Map<string, URL>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && /^https?:\/\//.test(value)) {
      const url = new URL(value);
      if (!origins.has(url.origin)) origins.set(url.origin, url);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(entry);
  return [...origins.values()];
}

/** The entry names material the probe cannot read: nothing was probed. */
export class ProbeSetupError extends Error {
  override name = 'ProbeSetupError';
}

/** A PEM given inline or as a file; a file that cannot be read is named with the entry's path to it. */
function pem(value: string | undefined, at: string): string | undefined {
  if (value === undefined || value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new ProbeSetupError(`${at}: cannot read file ${value} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export async function probeProvider(
  config: GatewayConfig,
  { factory, config: entry }: ProviderEntry,
  now = new Date(),
): Promise<ProbeReport> {
  const warningDays = config.security.cert_expiry_warning_days;
  const tls = entry.tls;
  const [ca, cert, key] = (['ca', 'cert', 'key'] as const).map((k) => pem(tls?.[k], `${entry.id}: tls.${k}`));
  const options = { ca, cert, key, warningDays, now };
  const endpoints: ProbeReport['endpoints'] = [];
  // what the kind calls server to server (no declaration: everything is taken for a back channel)
  const channels = factory.backChannels ? factory.backChannels(entry) : [[]];
  const at = (path: readonly (string | number)[]) =>
    path.reduce<unknown>((value, key) => (value as Record<string | number, unknown> | undefined)?.[key], entry);
  const backOrigins = new Set(channels.flatMap((path) => endpointsOf(at(path)).map((u) => u.origin)));
  // what it publishes is fetched first: SAML metadata names the SSO locations browsers are sent to
  const documents = await probePublished({ factory, config: entry });
  const named = documents.flatMap((d) => d.locations ?? []);
  const reached = [factory.endpoints ? factory.endpoints(entry) : { ...entry, tls: undefined }, named];
  for (const url of endpointsOf(reached)) {
    if (url.protocol !== 'https:') {
      const check: CheckResult = { check: 'tls_versions', ok: false, detail: 'plain http: not encrypted' };
      endpoints.push({ url: url.origin, ok: false, checks: [check] });
      continue;
    }
    const port = Number(url.port || 443);
    const endpoint = { host: url.hostname.replace(/^\[|\]$/g, ''), port, servername: tls?.servername };
    const checks = await probeEndpoint(endpoint, { ...options, backChannel: backOrigins.has(url.origin) });
    endpoints.push({ url: url.origin, ok: checks.every((c) => c.ok), checks });
  }
  const strict = checkSecurity(
    { production: true, providers: [{ factory, config: entry }], security: config.security },
    { now, warningDays },
  );
  const at0 = (p: string) => p.replace(/^providers\[0\]\.?/, '');
  // SHA-1 stays acceptable where production accepts it: a provider marked `legacy: true` (VK_VERSION 008
  // banks); it is reported beside the verdict. Anything else production warns about as weak fails here.
  const legacy = (w: string) => /accepted only because this provider is marked legacy/.test(w);
  const problems = [...strict.errors, ...strict.warnings.filter((w) => /weak|expire|bits/i.test(w) && !legacy(w))].map(
    at0,
  );
  const notes = strict.warnings.filter(legacy).map(at0);
  const material = { ok: problems.length === 0, problems, notes };
  const published = { ok: documents.every((d) => d.ok), documents };
  const audit = {
    ok: true,
    detail: `every login with ${entry.id} is recorded in the signed audit log ${config.audit.dir}`,
  };
  const ok = endpoints.length > 0 && endpoints.every((e) => e.ok) && material.ok && published.ok && audit.ok;
  return { provider: entry.id, at: now.toISOString(), ok, endpoints, material, published, audit };
}

export function describeProbe(report: ProbeReport): string {
  const lines = [`${report.provider}: security probe ${report.ok ? 'PASSED' : 'FAILED'} at ${report.at}`];
  if (!report.endpoints.length) lines.push('  no endpoint to probe: the entry names no URL');
  for (const endpoint of report.endpoints) {
    lines.push(`  ${endpoint.url}`);
    for (const c of endpoint.checks) lines.push(`    ${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(13)} ${c.detail}`);
  }
  lines.push(
    `  ${report.material.ok ? 'ok  ' : 'FAIL'} material      ${report.material.problems.join('; ') || 'keys and algorithms strong'}`,
  );
  for (const note of report.material.notes) lines.push(`  note material      ${note}`);
  for (const d of report.published.documents) {
    const detail = d.problems.join('; ') || (d.kind === 'none' ? 'publishes no keys or algorithms' : 'strong');
    lines.push(`  ${d.ok ? 'ok  ' : 'FAIL'} published     ${d.kind} ${d.url}: ${detail}`);
  }
  lines.push(`  ${report.audit.ok ? 'ok  ' : 'FAIL'} audit         ${report.audit.detail}`);
  return `${lines.join('\n')}\n`;
}

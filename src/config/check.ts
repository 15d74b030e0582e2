// The one place that decides whether a configuration may run. `vpm-gateway config check` and
// `vpm-gateway start` both call checkConfigFile before anything is written to disk (no key generated,
// no directory created, no network), and createGateway calls configFindings again for callers that
// load a configuration themselves. Every problem names its config path.
import { loadConfigFile, ConfigError, ConfigInputError, type GatewayConfig, type LoadOptions } from './load.ts';
import { withPlannedFiles } from './secret.ts';
import { formatPath } from './path.ts';
import { productionProblems } from './production.ts';
import { checkSecurity, type SecurityCheckOptions } from '../tls/security-checks.ts';
import { ProviderRegistry } from '../onboarding/offers.ts';
import { engineClientProblems } from '../oidc/client-check.ts';

export interface Findings {
  /** the configuration must not run */
  errors: string[];
  warnings: string[];
  /** the joining records as read for the check, when they are valid (the gateway runs with these) */
  registry?: ProviderRegistry;
}

/** Everything beyond the schema: production rules, the clients as the engine builds them, each adapter kind's
 * own rules, key material and algorithms. */
export async function configFindings(config: GatewayConfig, options: SecurityCheckOptions = {}): Promise<Findings> {
  const errors = [...productionProblems(config), ...(await engineClientProblems(config))];
  const ctx = { production: config.production, baseUrl: config.issuer.replace(/\/$/, '') };
  for (const [i, { factory, config: entry }] of config.providers.entries()) {
    for (const p of (await factory.check?.(entry, ctx)) ?? [])
      errors.push(`${formatPath(['providers', i, ...p.path])}: ${p.message}`);
  }
  // the demo's in-process peers, as start would mount them
  if (config.demo.enabled && !config.production) {
    const demo = { issuer: ctx.baseUrl };
    for (const factory of new Set(config.providers.map((entry) => entry.factory))) {
      const entries = config.providers.filter((entry) => entry.factory === factory).map((entry) => entry.config);
      errors.push(...(factory.demoPeer?.check?.(entries, demo) ?? []));
    }
  }
  // the joining records must validate and match the providers (src/onboarding): read, never written
  let registry: ProviderRegistry | undefined;
  try {
    registry = ProviderRegistry.load(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    errors.push(...err.problems);
  }
  const report = checkSecurity(config, options);
  const warnings = [...report.warnings, ...publicSubjectWarnings(config)];
  return { errors: [...errors, ...report.errors], warnings, ...(registry ? { registry } : {}) };
}

/** A public `sub` is the semantics identifier, `PNOLV-<personal code>`: a service not given `personal_code`
 * reads the code from `sub` all the same, unless its subject is pairwise. */
function publicSubjectWarnings(config: GatewayConfig): string[] {
  return config.clients.flatMap((client, i) =>
    client.subject_type === 'public' && !client.scopes.includes('personal_code')
      ? [
          `clients[${i}].subject_type: ${client.client_id} is not given personal_code, yet its public sub (PNOLV-<code>) carries the code: set subject_type: pairwise (with pairwise_salt) if it must not learn it`,
        ]
      : [],
  );
}

export interface FileCheck {
  /** the loaded configuration, unless the file is invalid */
  config?: GatewayConfig;
  /** schema and cross-setting problems: the file does not describe a gateway */
  invalid: string[];
  /** security and production refusals of a well-formed file */
  refused: string[];
  warnings: string[];
}

export interface CheckOptions extends LoadOptions {
  /** files `start` generates after the checks (the demo's key material): absent counts as present */
  planned?: ((path: string) => boolean) | undefined;
}

/** Load a configuration file and collect every problem, without side effects; a file that cannot be read as
 * a configuration at all throws ConfigInputError. */
export async function checkConfigFile(path: string, options: CheckOptions): Promise<FileCheck> {
  let config: GatewayConfig;
  try {
    config = withPlannedFiles(options.planned, () => loadConfigFile(path, options));
  } catch (err) {
    if (err instanceof ConfigError && !(err instanceof ConfigInputError))
      return { invalid: err.problems, refused: [], warnings: [] };
    throw err;
  }
  const { errors, warnings } = await configFindings(config, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.planned ? { planned: options.planned } : {}),
  });
  return { config, invalid: [], refused: errors, warnings };
}

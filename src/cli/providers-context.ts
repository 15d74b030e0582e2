// What every `vpm-gateway providers` command shares: the gateway configuration of --config, its
// registry records (or, without a registry, each entry's inline `onboarding` block), and each
// provider's standing, printed for people or as JSON.
import { registryDir } from '../onboarding/config.ts';
import type { ParseArgsOptionsConfig } from 'node:util';
import type { GatewayConfig } from '../config/load.ts';
import { loadRecords } from '../onboarding/files.ts';
import type { RegistryRecord } from '../onboarding/record.ts';
import { reconcile, recordStanding, type Standing } from '../onboarding/standing.ts';
import { ProviderRegistry } from '../onboarding/offers.ts';
import {
  type CommandSpec,
  command,
  EXIT_FAILED,
  type Invocation,
  type Io,
  type Runner,
  UsageError,
} from './command.ts';
import { configPath, loadCommandConfig } from './gateway-config.ts';

export interface ProvidersContext<O extends ParseArgsOptionsConfig> extends Invocation<O> {
  config: GatewayConfig;
  /** the registry's records by id; undefined without a `registry` block */
  records: Map<string, RegistryRecord> | undefined;
  /** problems of the registry and of its agreement with the configuration (empty when none) */
  problems: string[];
}

type ProvidersSpec<O extends ParseArgsOptionsConfig> = Omit<CommandSpec<O>, 'run'> & {
  run(ctx: ProvidersContext<O>): Promise<number>;
};

/** A `providers` subcommand: --config and its registry loaded; an invalid configuration is exit 1, one that
 * cannot be read exit 2 (src/cli/command.ts). */
export function providersCommand<O extends ParseArgsOptionsConfig>(spec: ProvidersSpec<O>): Runner {
  return command<O>({
    ...spec,
    name: `providers ${spec.name}`,
    async run(invocation) {
      const path = configPath((invocation.values as { config?: string }).config);
      const config = loadCommandConfig(path, invocation.io);
      if (!config) return EXIT_FAILED;
      if (!config.registry) return spec.run({ ...invocation, config, records: undefined, problems: [] });
      const { records, problems } = loadRecords(registryDir(config));
      problems.push(...reconcile(config, records, registryDir(config)));
      return spec.run({ ...invocation, config, records, problems });
    },
  });
}

/** The record named on the command line; a usage error when there is no registry or no such record. */
export function recordOf(ctx: ProvidersContext<ParseArgsOptionsConfig>, id: string | undefined): RegistryRecord {
  if (id === undefined) throw new UsageError('a provider id is missing');
  if (!ctx.records) throw new UsageError(`${ctx.config.path} has no registry block: its providers have no records`);
  const record = ctx.records.get(id);
  if (!record) throw new UsageError(`no record ${JSON.stringify(id)} in ${registryDir(ctx.config)}`);
  return record;
}

/** Every provider's standing: the records (configured or not yet), else the inline onboarding blocks. */
export function standingsOf(ctx: ProvidersContext<ParseArgsOptionsConfig>): Standing[] {
  if (ctx.records) return [...ctx.records.values()].map((r) => recordStanding(r, r.adapter ?? ''));
  return ProviderRegistry.load(ctx.config).standings();
}

export function printProblems(io: Io, problems: string[]): void {
  if (problems.length) io.stderr(`registry problems:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
}

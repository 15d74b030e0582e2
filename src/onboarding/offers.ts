// What the gateway offers because of the joining process: the registry (or the inline `onboarding`
// blocks) read and checked against the configuration at start, each provider's standing, and the list
// of offered providers the login policy (src/login/policy.ts) serves, recomputed on every change.
import { registryDir } from './config.ts';
import type { GatewayConfig } from '../config/load.ts';
import { ConfigError } from '../config/load.ts';
import type { OfferedProvider } from '../login/policy.ts';
import { loadRecords } from './files.ts';
import type { RegistryRecord } from './record.ts';
import {
  inlineStanding,
  reconcile,
  recordsByAdapter,
  recordStanding,
  type Standing,
  unrecordedStanding,
} from './standing.ts';

export class ProviderRegistry {
  private readonly config: GatewayConfig;
  /** the registry's records by id (the live registry updates them in place); undefined without a registry */
  readonly records: Map<string, RegistryRecord> | undefined;

  private constructor(config: GatewayConfig, records: Map<string, RegistryRecord> | undefined) {
    this.config = config;
    this.records = records;
  }

  /** Reads and checks the registry; throws ConfigError naming every problem (nothing is written). */
  static load(config: GatewayConfig): ProviderRegistry {
    if (!config.registry) return new ProviderRegistry(config, undefined);
    const dir = registryDir(config);
    const { records, problems } = loadRecords(dir);
    problems.push(...reconcile(config, records, dir));
    if (problems.length) throw new ConfigError(problems);
    return new ProviderRegistry(config, records);
  }

  /** Each configured provider's standing, in configuration order. */
  standings(today = new Date()): Standing[] {
    const byAdapter = this.records ? recordsByAdapter(this.records) : undefined;
    return this.config.providers.map(({ config: entry }) => {
      if (!byAdapter) return inlineStanding(entry, this.config.production, today);
      const record = byAdapter.get(entry.id);
      return record ? recordStanding(record, entry.id, today) : unrecordedStanding(entry.id);
    });
  }

  /** The providers offered now, among those with an adapter open; `logos`: logo URLs by provider id. */
  offered(open: ReadonlySet<string>, logos: ReadonlyMap<string, string> = new Map()): OfferedProvider[] {
    const entries = new Map(this.config.providers.map(({ config: entry }) => [entry.id, entry]));
    return this.standings()
      .filter((s) => s.audience !== 'none' && open.has(s.provider))
      .map(({ provider, audience }) => {
        const { id, name, kind, group, loa } = entries.get(provider)!;
        return { id, name, kind, group: group ?? kind, logo: logos.get(id), loa, testOnly: audience === 'test' };
      });
  }
}

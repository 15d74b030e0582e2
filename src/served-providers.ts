// The providers a gateway serves: an adapter for every provider entry its joining record lets in (a
// suspended one's too, so resuming it needs no restart), who is offered which of them, and with a
// `registry` the records followed while running, so a provider let in then gets its adapter made as at start
// (src/onboarding/adapters.ts) and the offers follow every change.
import type { ProviderAdapter } from './broker/adapter.ts';
import type { GatewayConfig } from './config/load.ts';
import type { AuditLog } from './audit/events.ts';
import type { Logger } from './logger.ts';
import type { Store } from './store/store.ts';
import type { AdapterDeps } from './registry/factory.ts';
import { AdapterOpener } from './onboarding/adapters.ts';
import { registryDir } from './onboarding/config.ts';
import { LiveRegistry } from './onboarding/live.ts';
import type { ProviderRegistry } from './onboarding/offers.ts';
import { registryConflicts } from './onboarding/standing.ts';
import { recordStart } from './onboarding/start-records.ts';
import { ProviderPolicy } from './login/policy.ts';

export interface ServedProviders {
  /** the open adapters by provider id (the broker reads the same map, which grows while running) */
  adapters: Map<string, ProviderAdapter>;
  opener: AdapterOpener;
  policy: ProviderPolicy;
  registry: LiveRegistry | undefined;
}

export interface ServedProvidersOptions {
  /** the joining records the configuration checks read */
  providerRegistry: ProviderRegistry;
  /** the dependencies every adapter gets */
  deps(providerId: string): AdapterDeps;
  /** metering, when metrics are on */
  wrap: ((adapter: ProviderAdapter) => ProviderAdapter) | undefined;
  /** each provider's logo URL, for the offers */
  logoUrls: ReadonlyMap<string, string>;
  store: Store;
  audit: AuditLog;
  logger: Logger;
}

/** Opens the adapters and records the start (which providers each audience is offered); the live registry,
 * if any, has started. */
export async function serveProviders(config: GatewayConfig, options: ServedProvidersOptions): Promise<ServedProviders> {
  const { providerRegistry, logoUrls, store, audit, logger } = options;
  const adapters = new Map<string, ProviderAdapter>();
  const entries = new Map(config.providers.map((p) => [p.config.id, p]));
  const check = { production: config.production, baseUrl: config.issuer.replace(/\/$/, '') };
  const opener = new AdapterOpener({ entries, deps: options.deps, check, adapters, wrap: options.wrap, logger });
  // a suspended provider keeps its adapter, so resuming it needs no restart
  const standings = providerRegistry.standings();
  await opener.openAtStart(standings);
  await recordStart(audit, config, [...adapters.keys()], standings);

  const open = new Set(adapters.keys());
  const policy = new ProviderPolicy(config.clients, providerRegistry.offered(open, logoUrls));
  const registry =
    config.registry && providerRegistry.records
      ? new LiveRegistry({
          dir: registryDir(config),
          pollSeconds: config.registry.poll_seconds,
          store,
          shared: config.store.type === 'redis',
          audit,
          logger,
          records: providerRegistry.records,
          check: (records) => registryConflicts(config, records, registryDir(config)),
          apply: async () => {
            for (const id of await opener.openNeeded(providerRegistry.standings())) open.add(id);
            policy.update(providerRegistry.offered(open, logoUrls));
          },
        })
      : undefined;
  await registry?.start();
  return { adapters, opener, policy, registry };
}

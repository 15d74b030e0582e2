// Opening a provider's adapter when the joining process lets it in while the gateway runs: a move into
// `testing` or `production` takes effect on every instance at its next registry look, without a restart.
// The adapter is created exactly as at start (the kind's factory, the same dependencies) and only after
// the kind's own rules pass again; one that cannot be opened stays unoffered (fail closed) and is logged.
import express, { type Express } from 'express';
import type { ProviderAdapter } from '../broker/adapter.ts';
import type { ProviderEntry } from '../config/load.ts';
import type { Logger } from '../logger.ts';
import { type AdapterCheckContext, type AdapterDeps, refuseUnchecked } from '../registry/factory.ts';
import type { Standing } from './standing.ts';

export interface AdapterOpenerOptions {
  entries: ReadonlyMap<string, ProviderEntry>;
  /** the dependencies every adapter gets, as at start */
  deps(providerId: string): AdapterDeps;
  check: AdapterCheckContext;
  /** the gateway's adapters (the broker reads the same map) */
  adapters: Map<string, ProviderAdapter>;
  /** metering, as at start */
  wrap?(adapter: ProviderAdapter): ProviderAdapter;
  logger: Logger;
}

/** Whether a provider needs its adapter open: offered to someone, or suspended (resumed without restart). */
export const needsAdapter = (s: Standing): boolean => s.audience !== 'none' || s.dormant;

export class AdapterOpener {
  private readonly options: AdapterOpenerOptions;
  /** where adapters opened while running serve their own routes (callbacks, metadata) */
  private app: Express | undefined;
  private listening = false;
  private readonly opening = new Map<string, Promise<boolean>>();

  constructor(options: AdapterOpenerOptions) {
    this.options = options;
  }

  /** While the app is built: adapters opened later mount their routes on a sub-app placed here, before
   * the app's final handlers (Express looks a mounted app's routes up on every request). */
  mountOn(app: Express): void {
    this.app = express();
    // each app that handles a request sets its own headers: the main app's setting does not reach this one
    this.app.disable('x-powered-by');
    app.use(this.app);
  }

  /** Once the server listens: adapters opened from now on fetch their upstream metadata at once. */
  started(): void {
    this.listening = true;
  }

  /** At start, before the app is built: the adapter of every provider that needs one (the configuration's
   * checks already passed; a factory that fails stops the start). The others are logged as not offered. */
  async openAtStart(standings: readonly Standing[]): Promise<void> {
    const { entries, deps, adapters, wrap, logger } = this.options;
    for (const standing of standings) {
      if (!needsAdapter(standing)) {
        const { provider, stage, unmet: reasons } = standing;
        logger.warn('provider not offered', { provider, stage, reasons });
        continue;
      }
      const { factory, config } = entries.get(standing.provider)!;
      const created = await factory.create(config, deps(config.id));
      adapters.set(config.id, wrap ? wrap(created) : created);
    }
  }

  /** Opens the adapter of every standing that needs one and has none; resolves to the ids opened. */
  async openNeeded(standings: readonly Standing[]): Promise<string[]> {
    const missing = standings.filter((s) => needsAdapter(s) && !this.options.adapters.has(s.provider));
    const opened: string[] = [];
    for (const { provider } of missing) if (await this.open(provider)) opened.push(provider);
    return opened;
  }

  private open(id: string): Promise<boolean> {
    let pending = this.opening.get(id);
    if (!pending) {
      pending = this.create(id).finally(() => this.opening.delete(id));
      this.opening.set(id, pending);
    }
    return pending;
  }

  private async create(id: string): Promise<boolean> {
    const { entries, deps, check, adapters, wrap, logger } = this.options;
    const entry = entries.get(id);
    if (!entry) return false;
    try {
      await refuseUnchecked(entry.factory, entry.config, check);
      const created = await entry.factory.create(entry.config, deps(id));
      const adapter = wrap ? wrap(created) : created;
      if (this.app) adapter.routes?.(this.app, `/providers/${adapter.id}`);
      adapters.set(id, adapter);
      if (this.listening) adapter.warmUp?.();
      logger.info('provider adapter opened', { provider: id });
      return true;
    } catch (err) {
      logger.error('provider adapter not opened', { provider: id, error: (err as Error).message });
      return false;
    }
  }
}

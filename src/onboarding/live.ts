// The registry as a running gateway holds it. A change (a suspension, a resumption, a new stage) is made
// by `vpm-gateway providers transition` in the record file and, on a shared (Redis) store, published
// there too; every instance looks for changes every `registry.poll_seconds` (the store's registry
// version and the record files'), reads the registry again and checks it as start does, then applies
// the newest revision of each record to what it offers (a record whose file is gone: its provider to
// nobody); the first instance to see a revision records each of its moves in the audit log.
import { EventEmitter } from 'node:events';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { changeDetails, removalDetail } from './changes.ts';
import { directoryVersion, type LoadedRecords, loadRecords, recordPath } from './files.ts';
import { claimAudit, publishedRecord, publishedVersion, publishRecord, revisionsBetween } from './published.ts';
import type { RegistryRecord } from './record.ts';
import { reload } from './reload.ts';
import { latvianDay } from '../registry/onboarding.ts';

// the `providers` commands record their changes through these too
export { changeDetail } from './changes.ts';
export { claimAudit, publishRecord } from './published.ts';

export interface LiveRegistryOptions {
  dir: string;
  pollSeconds: number;
  store: Store;
  /** the store is shared by several instances (Redis): changes travel through it */
  shared: boolean;
  audit: AuditLog;
  logger: Logger;
  records: Map<string, RegistryRecord>;
  /** the registry's disagreements with the configuration (those start refuses), empty when none */
  check(records: ReadonlyMap<string, RegistryRecord>): string[];
  /** recompute what is offered from the records (called after every applied change, and each new day:
   * a licence or register entry lapses at midnight without any change to the record) */
  apply(records: ReadonlyMap<string, RegistryRecord>): void | Promise<void>;
  now?: () => Date;
}

/** Emits `applied` (the changed record ids) once an instance offers according to a change. */
export class LiveRegistry extends EventEmitter {
  readonly records: Map<string, RegistryRecord>;
  private seen: string | undefined;
  /** the problems of the last look that applied nothing, logged once until they change */
  private refused: string | undefined;
  /** why the looks fail (a store outage fails every one), logged once until they work again */
  private failing: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private day: string;
  private readonly options: LiveRegistryOptions;

  constructor(options: LiveRegistryOptions) {
    super();
    this.options = options;
    this.records = options.records;
    this.day = this.today();
  }

  /** Takes the store's newer revisions (another host changed them) and publishes ours, then watches. */
  async start(): Promise<void> {
    const { store, shared } = this.options;
    if (shared) {
      for (const record of [...this.records.values()]) {
        const published = await publishedRecord(store, record.id);
        if (published && published.revision > record.revision) this.records.set(record.id, published);
        else if (!published || published.revision < record.revision) await publishRecord(store, record);
      }
      await this.options.apply(this.records);
    }
    this.seen = await this.version();
    this.timer = setInterval(() => void this.poll(), this.options.pollSeconds * 1000);
    this.timer.unref();
  }

  /** The day in Latvia: a licence or register entry lapses at midnight there (src/registry/onboarding.ts). */
  private today(): string {
    return latvianDay(this.clock());
  }

  private clock(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** On a shared store the store's version (revisions published from any host) and the directory's
   * (records added or removed here); on a single node the directory's. */
  private async version(): Promise<string> {
    const { shared, store, dir } = this.options;
    return shared ? `${await publishedVersion(store)}\n${directoryVersion(dir)}` : directoryVersion(dir);
  }

  /** One look for changes (also what the timer runs), resolved once a look begun after the call ends: a
   * look under way may have read the files before the caller changed them. */
  poll(): Promise<void> {
    this.queued ??= (this.running ?? Promise.resolve()).then(() => {
      this.queued = undefined;
      this.running = this.look().finally(() => {
        this.running = undefined;
      });
      return this.running;
    });
    return this.queued;
  }

  /** The records of the directory, each replaced by a newer revision published from another host. */
  private async found(): Promise<LoadedRecords> {
    const { shared, store, dir, logger } = this.options;
    let loaded = loadRecords(dir, this.clock());
    if (!shared) return loaded;
    if (loaded.problems.length) {
      // this host's files do not validate (a half-made edit): what the other hosts published still applies
      // to the records held (a suspension must reach every instance), the files once they validate
      logger.error('registry files not applied', { problems: loaded.problems });
      loaded = { records: new Map(this.records), problems: [] };
    }
    for (const [id, record] of loaded.records) {
      const published = await publishedRecord(store, id);
      if (published && published.revision > record.revision) loaded.records.set(id, published);
    }
    return loaded;
  }

  private async look(): Promise<void> {
    const { logger } = this.options;
    try {
      await this.lookOnce();
    } catch (err) {
      const error = (err as Error).message;
      if (error !== this.failing) logger.error('registry poll failed', { error });
      this.failing = error;
      return;
    }
    if (this.failing === undefined) return;
    this.failing = undefined;
    logger.info('registry poll works again');
  }

  private async lookOnce(): Promise<void> {
    const { dir, logger } = this.options;
    const day = this.today();
    if (day !== this.day) {
      this.day = day;
      await this.options.apply(this.records);
      this.emit('applied', []);
    }
    const version = await this.version();
    if (version === this.seen) return;
    const loaded = await this.found();
    const next = reload(this.records, loaded.records, dir);
    // checked as at start; a record caught half-edited, or one claiming another's provider, changes
    // nothing: what was valid is offered until the registry is valid again
    const problems = loaded.problems.length ? loaded.problems : this.options.check(next.records);
    if (problems.length) {
      // looked at again at every poll, logged once: a problem may pass with time alone (an entry dated a
      // few minutes ahead of this host's clock)
      const said = problems.join('\n');
      if (said !== this.refused) logger.error('registry change not applied', { problems });
      this.refused = said;
      return;
    }
    this.seen = version;
    this.refused = undefined;
    if (next.unapplied.length) logger.warn('registry change not applied', { problems: next.unapplied });
    if (!next.changed.length && !next.removed.length) return;
    for (const { record } of next.changed) this.records.set(record.id, record);
    for (const { id } of next.removed) this.records.delete(id);
    await this.options.apply(this.records);
    for (const { record, previous } of next.changed) await this.recordChange(record, previous);
    for (const previous of next.removed) await this.recordRemoval(previous);
    this.emit('applied', [...next.changed.map(({ record }) => record.id), ...next.removed.map(({ id }) => id)]);
  }

  /** Logs and audits a record's revisions since the one applied: on a shared store revision by revision
   * as published (each claimed once across instances and commands), else move by move from its history. */
  private async recordChange(record: RegistryRecord, previous: RegistryRecord | undefined): Promise<void> {
    const { store, shared } = this.options;
    if (!shared) return this.recordDetails(record, changeDetails(record, previous));
    const published = await publishedRecord(store, record.id);
    // a newer revision from this host's directory reaches the other instances through the store
    if (!published || published.revision < record.revision) await publishRecord(store, record);
    if (previous) {
      const steps = await revisionsBetween(store, previous, record);
      if (steps) {
        let before = previous;
        for (const step of steps) {
          await this.recordDetails(step, changeDetails(step, before));
          before = step;
        }
        return;
      }
    }
    await this.recordDetails(record, changeDetails(record, previous));
  }

  private async recordDetails(record: RegistryRecord, details: Record<string, unknown>[]): Promise<void> {
    const { store, audit, logger } = this.options;
    for (const detail of details) logger.info('registry change applied', detail);
    if (await claimAudit(store, record))
      for (const detail of details) await audit.record({ type: 'registry_change', providerId: record.adapter, detail });
  }

  private async recordRemoval(previous: RegistryRecord): Promise<void> {
    const { store, audit, logger, dir } = this.options;
    const detail = removalDetail(previous, recordPath(dir, previous.id));
    logger.warn('registry record removed: its provider is offered to nobody', detail);
    if (await claimAudit(store, previous, 'removed'))
      await audit.record({ type: 'registry_change', providerId: previous.adapter, detail });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

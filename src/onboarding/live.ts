// The registry as a running gateway holds it. A change (a suspension, a resumption, a new stage) is made
// by `vpm-gateway providers transition` in the record file and, on a shared (Redis) store, published
// there too; every instance looks for changes every `registry.poll_seconds` (the store's registry
// version, or the record files' own on a single node), applies the newest revision of each record to
// what it offers, and the first instance to see a revision records it in the audit log.
import { EventEmitter } from 'node:events';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import { directoryVersion, loadRecords } from './files.ts';
import { currentStage, type RegistryRecord, registryRecordSchema } from './record.ts';

const RECORD_KEY = (id: string) => `registry:record:${id}`;
const VERSION_KEY = 'registry:version';
const AUDITED_KEY = (id: string, revision: number) => `registry:audited:${id}:${revision}`;
/** The files stay the source of truth; the store's copy only has to outlive the gap between changes. */
const PUBLISHED_TTL_SECONDS = 400 * 86_400;
const AUDITED_TTL_SECONDS = 7 * 86_400;

/** Makes a record the newest one every instance on this store sees. */
export async function publishRecord(store: Store, record: RegistryRecord): Promise<void> {
  await store.set(RECORD_KEY(record.id), JSON.stringify(record), PUBLISHED_TTL_SECONDS);
  await store.set(VERSION_KEY, `${record.id}:${record.revision}:${Date.now()}`, PUBLISHED_TTL_SECONDS);
}

/** True for the one caller (instance or command) that records this revision in the audit log. */
export function claimAudit(store: Store, record: RegistryRecord): Promise<boolean> {
  return store.setIfAbsent(AUDITED_KEY(record.id, record.revision), '1', AUDITED_TTL_SECONDS);
}

async function publishedRecord(store: Store, id: string): Promise<RegistryRecord | undefined> {
  const text = await store.get(RECORD_KEY(id));
  if (!text) return undefined;
  const parsed = registryRecordSchema.safeParse(JSON.parse(text));
  return parsed.success && parsed.data.id === id ? parsed.data : undefined;
}

/** Fields of the record changed beside its revision and its probe and test login reports. */
function editedFields(record: RegistryRecord, previous: RegistryRecord): string[] {
  const reports = new Set(['revision', 'probe', 'test_login']);
  const now = record as unknown as Record<string, unknown>;
  const before = previous as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(now), ...Object.keys(before)])]
    .filter((field) => !reports.has(field) && JSON.stringify(now[field]) !== JSON.stringify(before[field]))
    .sort();
}

/** The audit event of one record revision: the stage it moved to, from where, by whom and why. */
export function changeDetail(record: RegistryRecord, previous: RegistryRecord | undefined): Record<string, unknown> {
  const last = record.history.at(-1)!;
  // a new probe or test login report, or an edit of the file, adds no history entry: the last move's person
  // and reason are not this change's, so such a change is recorded as what it is (an edit: which fields)
  const moved = !previous || record.history.length !== previous.history.length;
  const edited = previous && !moved ? editedFields(record, previous) : [];
  return {
    record: record.id,
    revision: record.revision,
    stage: currentStage(record),
    from: previous ? currentStage(previous) : null,
    ...(moved
      ? {
          by: last.by,
          reason: last.reason,
          evidence: last.evidence,
          refusal_reasons: last.refusal_reasons ?? null,
          refusal_other: last.refusal_other ?? null,
        }
      : edited.length
        ? { edited }
        : { report_only: true }),
    // a new security probe (its verdict) or test login (its whole report, signed into the log here)
    ...(record.probe && record.probe.at !== previous?.probe?.at
      ? { probe: { at: record.probe.at, ok: record.probe.ok } }
      : {}),
    ...(record.test_login && record.test_login.at !== previous?.test_login?.at
      ? { test_login: record.test_login }
      : {}),
  };
}

export interface LiveRegistryOptions {
  dir: string;
  pollSeconds: number;
  store: Store;
  /** the store is shared by several instances (Redis): changes travel through it */
  shared: boolean;
  audit: AuditLog;
  logger: Logger;
  records: Map<string, RegistryRecord>;
  /** recompute what is offered from the records (called after every applied change, and each new day:
   * a licence or register entry lapses at midnight without any change to the record) */
  apply(records: ReadonlyMap<string, RegistryRecord>): void | Promise<void>;
  now?: () => Date;
}

/** Emits `applied` (the changed record ids) once an instance offers according to a change. */
export class LiveRegistry extends EventEmitter {
  readonly records: Map<string, RegistryRecord>;
  private seen: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
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

  private today(): string {
    return (this.options.now?.() ?? new Date()).toISOString().slice(0, 10);
  }

  private version(): Promise<string | undefined> {
    const { shared, store, dir } = this.options;
    return shared ? store.get(VERSION_KEY) : Promise.resolve(directoryVersion(dir));
  }

  /** One look for changes (also what the timer runs); concurrent calls share the one look. */
  poll(): Promise<void> {
    this.polling ??= this.look().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async look(): Promise<void> {
    const { shared, store, dir, logger } = this.options;
    try {
      const day = this.today();
      if (day !== this.day) {
        this.day = day;
        await this.options.apply(this.records);
        this.emit('applied', []);
      }
      const version = await this.version();
      if (version === this.seen) return;
      let candidates: RegistryRecord[];
      if (shared) {
        candidates = [];
        for (const id of this.records.keys()) {
          const record = await publishedRecord(store, id);
          if (record) candidates.push(record);
        }
      } else {
        const loaded = loadRecords(dir);
        // a record being edited by hand may be invalid for a moment: keep offering what was valid
        if (loaded.problems.length) {
          logger.error('registry change not applied', { problems: loaded.problems });
          return;
        }
        candidates = [...loaded.records.values()];
      }
      const changed = candidates.filter((r) => r.revision > (this.records.get(r.id)?.revision ?? 0));
      for (const record of changed) {
        const previous = this.records.get(record.id);
        this.records.set(record.id, record);
        await this.recordChange(record, previous);
      }
      this.seen = version;
      if (!changed.length) return;
      await this.options.apply(this.records);
      this.emit(
        'applied',
        changed.map((r) => r.id),
      );
    } catch (err) {
      logger.error('registry poll failed', { error: (err as Error).message });
    }
  }

  private async recordChange(record: RegistryRecord, previous: RegistryRecord | undefined): Promise<void> {
    const { store, audit, logger } = this.options;
    const detail = changeDetail(record, previous);
    logger.info('registry change applied', detail);
    if (await claimAudit(store, record))
      await audit.record({ type: 'registry_change', providerId: record.adapter, detail });
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

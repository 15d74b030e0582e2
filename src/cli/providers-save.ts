// How a `providers` command changes a record: written in one step on what the file holds then
// (src/onboarding/record-update.ts), published to a shared (Redis) store so every instance applies it,
// and recorded in the signed audit log, here when no gateway holds the log, else by the running instance
// that applies it. Fail closed: a log that cannot be opened writes nothing.
import { registryDir } from '../onboarding/config.ts';
import { openAuditLog } from '../audit/config.ts';
import type { AuditLog } from '../audit/events.ts';
import { describeHolder, liveHolder } from '../audit/lock.ts';
import type { GatewayConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import { changeDetail, claimAudit, publishRecord } from '../onboarding/live.ts';
import type { RegistryRecord, StoredReport } from '../onboarding/record.ts';
import { RecordWriteError, updateRecord } from '../onboarding/record-update.ts';
import { RedisStore } from '../store/redis.ts';
import type { Store } from '../store/store.ts';
import type { Io } from './command.ts';

export interface Saved {
  path: string;
  next: RegistryRecord;
  audited: 'here' | 'by the running gateway';
  /** the gateway holding the audit log, when it records the change */
  holder?: string;
  detail: Record<string, unknown>;
}

/**
 * Saves `change` of the record `id` (see updateRecord: with `readRevision` a record changed since is a
 * RecordConflictError, nothing written).
 */
export async function saveRecord(
  config: GatewayConfig,
  id: string,
  change: (current: RegistryRecord) => RegistryRecord,
  io: Io,
  readRevision?: number,
): Promise<Saved> {
  const logger = createLogger('warn', (line) => io.stderr(`${line}\n`));
  // a lock left by a gateway that is gone is no running gateway: the log is opened here (the lock taken
  // over, and the takeover recorded), or the change would be recorded by nobody
  const holder = await liveHolder(config.audit.dir);
  const audit: AuditLog | undefined = holder ? undefined : await openAuditLog(config.audit, logger);
  const store: Store | undefined = config.store.type === 'redis' ? new RedisStore(config.store) : undefined;
  try {
    const { path, previous, next } = await updateRecord(registryDir(config), id, change, readRevision);
    if (store) await publishRecord(store, next);
    const detail = changeDetail(next, previous);
    if (audit && (!store || (await claimAudit(store, next))))
      await audit.record({ type: 'registry_change', providerId: next.adapter, detail });
    if (audit) return { path, next, audited: 'here', detail };
    return { path, next, audited: 'by the running gateway', holder: describeHolder(holder!), detail };
  } finally {
    await audit?.close();
    await store?.close();
  }
}

/**
 * Stores a probe or test login report on the record as the file holds it now (a move made while the
 * probe or login ran stays); what kept it from being stored, printed, when it could not be.
 */
export async function saveReport(
  config: GatewayConfig,
  id: string,
  field: 'probe' | 'test_login',
  report: StoredReport,
  io: Io,
): Promise<Saved | undefined> {
  try {
    return await saveRecord(config, id, (current) => ({ ...current, [field]: report }), io);
  } catch (err) {
    if (!(err instanceof RecordWriteError)) throw err;
    io.stderr(`${id}: report not stored: ${err.message}\n`);
    return undefined;
  }
}

// How a `providers` command changes a record: written in one step, published to a shared (Redis) store
// so every instance applies it, and recorded in the signed audit log, here when no gateway holds the log,
// else by the running instance that applies it. Fail closed: a log that cannot be opened writes nothing.
import { registryDir } from '../onboarding/config.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog } from '../audit/config.ts';
import type { AuditLog } from '../audit/events.ts';
import { WRITER_LOCK_FILE } from '../audit/format.ts';
import type { GatewayConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import { writeRecord } from '../onboarding/files.ts';
import { changeDetail, claimAudit, publishRecord } from '../onboarding/live.ts';
import type { RegistryRecord } from '../onboarding/record.ts';
import { RedisStore } from '../store/redis.ts';
import type { Store } from '../store/store.ts';
import type { Io } from './command.ts';

export interface Saved {
  path: string;
  audited: 'here' | 'by the running gateway';
  detail: Record<string, unknown>;
}

export async function saveRecord(
  config: GatewayConfig,
  next: RegistryRecord,
  previous: RegistryRecord,
  io: Io,
): Promise<Saved> {
  const logger = createLogger('warn', (line) => io.stderr(`${line}\n`));
  const held = existsSync(join(config.audit.dir, WRITER_LOCK_FILE));
  const audit: AuditLog | undefined = held ? undefined : await openAuditLog(config.audit, logger);
  const store: Store | undefined = config.store.type === 'redis' ? new RedisStore(config.store) : undefined;
  try {
    const path = writeRecord(registryDir(config), next);
    if (store) await publishRecord(store, next);
    const detail = changeDetail(next, previous);
    if (audit && (!store || (await claimAudit(store, next))))
      await audit.record({ type: 'registry_change', providerId: next.adapter, detail });
    return { path, audited: audit ? 'here' : 'by the running gateway', detail };
  } finally {
    await audit?.close();
    await store?.close();
  }
}

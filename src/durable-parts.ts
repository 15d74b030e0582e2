// The parts of a gateway that outlive one process: the store, the key set every instance runs and the
// audit log. Opened in this order because the key set is agreed through the store and, on Redis, the
// store also witnesses the latest audit checkpoint (outside the audit directory).
import type { GatewayConfig } from './config/load.ts';
import type { Store } from './store/store.ts';
import { MemoryStore } from './store/memory.ts';
import { RedisStore } from './store/redis.ts';
import type { AuditLog } from './audit/events.ts';
import { openAuditLog } from './audit/config.ts';
import { openKeys, type RunningKeys } from './keys/open.ts';
import type { Logger } from './logger.ts';

export interface DurableParts {
  rawStore: Store;
  keys: RunningKeys;
  rawAudit: AuditLog;
}

function openStore(config: GatewayConfig): Store {
  if (config.store.type === 'redis') return new RedisStore(config.store);
  return new MemoryStore();
}

/** Opens the three, or closes what it opened and throws: a start that fails leaves no connection behind.
 * A store or audit log passed in (tests) is used as it is and left open. */
export async function openDurableParts(
  config: GatewayConfig,
  options: { store?: Store; audit?: AuditLog },
  logger: Logger,
): Promise<DurableParts> {
  const rawStore = options.store ?? openStore(config);
  let keys: RunningKeys | undefined;
  try {
    // refused when missing in production or differing from the other instances'
    keys = await openKeys(config, { store: rawStore, logger });
    const rawAudit =
      options.audit ??
      (await openAuditLog(config.audit, logger, { store: config.store.type === 'redis' ? rawStore : undefined }));
    return { rawStore, keys, rawAudit };
  } catch (err) {
    await keys?.close();
    if (!options.store) await rawStore.close();
    throw err;
  }
}

// The parts of a gateway that outlive one process: the store, the key set every instance runs and the
// audit log. Opened in this order because the key set is agreed through the store and, on Redis, the
// store also witnesses the latest audit checkpoint (outside the audit directory). A Redis that may evict
// keys is refused in production before anything is written to it (src/store/redis-eviction.ts).
import type { GatewayConfig } from './config/load.ts';
import type { Store } from './store/store.ts';
import { MemoryStore } from './store/memory.ts';
import { RedisStore } from './store/redis.ts';
import type { AuditLog } from './audit/events.ts';
import { openAuditLog } from './audit/config.ts';
import { openKeys, type RunningKeys } from './keys/open.ts';
import type { Logger } from './logger.ts';
import { SecurityCheckError } from './tls/security-checks.ts';

export interface DurableParts {
  rawStore: Store;
  keys: RunningKeys;
  rawAudit: AuditLog;
}

function openStore(config: GatewayConfig): Store {
  if (config.store.type === 'redis') return new RedisStore(config.store);
  return new MemoryStore(Date.now, { maxBytes: config.store.max_bytes });
}

/** Production refuses to start on a Redis that may evict keys, and from then on fails requests as an outage
 * while one does (a Sentinel failover to a replica that evicts, say); elsewhere it is a warning. */
async function guardEviction(store: RedisStore, production: boolean, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'store' });
  const finding = await store.eviction.check();
  if (finding && production) throw new SecurityCheckError([`store: ${finding}`]);
  if (finding) log.warn('store may evict keys (refused in production)', { finding });
  store.eviction.watch({
    refuse: production,
    report: (now) => {
      if (!now) log.info('store no longer evicts keys');
      else if (production) log.error('store may evict keys: requests refused until it does not', { finding: now });
      else log.warn('store may evict keys (refused in production)', { finding: now });
    },
  });
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
    if (rawStore instanceof RedisStore) await guardEviction(rawStore, config.production, logger);
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

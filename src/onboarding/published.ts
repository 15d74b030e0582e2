// A shared (Redis) store as the channel of registry revisions between instances: the newest revision of
// each record, the registry's version that instances poll, and the one-claim-per-revision key that lets
// exactly one instance or command record a revision in the audit log.
import type { Store } from '../store/store.ts';
import { type RegistryRecord, registryRecordSchema } from './record.ts';

const RECORD_KEY = (id: string) => `registry:record:${id}`;
const VERSION_KEY = 'registry:version';
const AUDITED_KEY = (id: string, revision: number, event: string) =>
  `registry:audited:${id}:${revision}${event ? `:${event}` : ''}`;
/** The files stay the source of truth; the store's copy only has to outlive the gap between changes. */
const PUBLISHED_TTL_SECONDS = 400 * 86_400;
const AUDITED_TTL_SECONDS = 7 * 86_400;

/** Makes a record the newest one every instance on this store sees. */
export async function publishRecord(store: Store, record: RegistryRecord): Promise<void> {
  await store.set(RECORD_KEY(record.id), JSON.stringify(record), PUBLISHED_TTL_SECONDS);
  await store.set(VERSION_KEY, `${record.id}:${record.revision}:${Date.now()}`, PUBLISHED_TTL_SECONDS);
}

/** True for the one caller (instance or command) that records this revision (or, with `event`, what
 * else befell it: its removal) in the audit log. */
export function claimAudit(
  store: Store,
  record: Pick<RegistryRecord, 'id' | 'revision'>,
  event: 'removed' | '' = '',
): Promise<boolean> {
  return store.setIfAbsent(AUDITED_KEY(record.id, record.revision, event), '1', AUDITED_TTL_SECONDS);
}

export function publishedVersion(store: Store): Promise<string | undefined> {
  return store.get(VERSION_KEY);
}

/** The newest published revision of a record; undefined when absent or not valid. */
export async function publishedRecord(store: Store, id: string): Promise<RegistryRecord | undefined> {
  const text = await store.get(RECORD_KEY(id));
  if (!text) return undefined;
  const parsed = registryRecordSchema.safeParse(JSON.parse(text));
  return parsed.success && parsed.data.id === id ? parsed.data : undefined;
}

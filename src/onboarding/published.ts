// A shared (Redis) store as the channel of registry revisions between instances: the newest revision of
// each record, a copy of every revision for the instances that look only after several (each revision is
// audited as what it changed), the registry's version that instances poll, and the one-claim-per-revision
// key that lets exactly one instance or command record a revision in the audit log.
import type { Store } from '../store/store.ts';
import { type RegistryRecord, registryRecordSchema } from './record.ts';

const RECORD_KEY = (id: string) => `registry:record:${id}`;
const REVISION_KEY = (id: string, revision: number) => `registry:record:${id}:${revision}`;
const VERSION_KEY = 'registry:version';
const AUDITED_KEY = (id: string, revision: number, event: string) =>
  `registry:audited:${id}:${revision}${event ? `:${event}` : ''}`;
/** The files stay the source of truth; the store's copy only has to outlive the gap between changes. */
const PUBLISHED_TTL_SECONDS = 400 * 86_400;
const AUDITED_TTL_SECONDS = 7 * 86_400;

/** Makes a record the newest one every instance on this store sees. */
export async function publishRecord(store: Store, record: RegistryRecord): Promise<void> {
  const text = JSON.stringify(record);
  await store.set(REVISION_KEY(record.id, record.revision), text, AUDITED_TTL_SECONDS);
  await store.set(RECORD_KEY(record.id), text, PUBLISHED_TTL_SECONDS);
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

/** The newest published revision of a record, or the given one; undefined when absent or not valid. */
export async function publishedRecord(
  store: Store,
  id: string,
  revision?: number,
): Promise<RegistryRecord | undefined> {
  const text = await store.get(revision === undefined ? RECORD_KEY(id) : REVISION_KEY(id, revision));
  if (!text) return undefined;
  const parsed = registryRecordSchema.safeParse(JSON.parse(text));
  return parsed.success && parsed.data.id === id && (revision ?? parsed.data.revision) === parsed.data.revision
    ? parsed.data
    : undefined;
}

/** Every revision after `previous` up to `record` (which ends the list), or undefined when one of them is
 * no longer in the store. */
export async function revisionsBetween(
  store: Store,
  previous: RegistryRecord,
  record: RegistryRecord,
): Promise<RegistryRecord[] | undefined> {
  const steps: RegistryRecord[] = [];
  for (let revision = previous.revision + 1; revision < record.revision; revision++) {
    const step = await publishedRecord(store, record.id, revision);
    if (!step) return undefined;
    steps.push(step);
  }
  return [...steps, record];
}

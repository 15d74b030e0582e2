// What a running registry takes from the records it finds on a change: a record with a new revision
// replaces the one applied, a new record joins, and a record whose file is gone leaves (its provider is
// then offered to nobody: fail closed). A file changed without a new revision (or set back to an older
// one) is not applied: the revision is what tells every instance, and the audit log, that it changed.
import { recordPath } from './files.ts';
import type { RegistryRecord } from './record.ts';

export interface Reload {
  /** the records to apply, when the registry checks pass on them */
  records: Map<string, RegistryRecord>;
  changed: { record: RegistryRecord; previous: RegistryRecord | undefined }[];
  removed: RegistryRecord[];
  /** files changed that are not applied, each named with why */
  unapplied: string[];
}

/** The same value whatever the order of its keys (a file and the store's JSON order them differently). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function reload(
  applied: ReadonlyMap<string, RegistryRecord>,
  found: ReadonlyMap<string, RegistryRecord>,
  dir: string,
): Reload {
  const records = new Map<string, RegistryRecord>();
  const out: Reload = { records, changed: [], removed: [], unapplied: [] };
  for (const [id, record] of found) {
    const previous = applied.get(id);
    if (!previous || record.revision > previous.revision) {
      records.set(id, record);
      out.changed.push({ record, previous });
      continue;
    }
    records.set(id, previous);
    if (record.revision < previous.revision)
      out.unapplied.push(
        `${recordPath(dir, id)}: revision ${record.revision} is older than the applied ${previous.revision}: not applied`,
      );
    else if (canonical(record) !== canonical(previous))
      out.unapplied.push(`${recordPath(dir, id)}: edited without a new revision: not applied`);
  }
  for (const [id, previous] of applied) if (!found.has(id)) out.removed.push(previous);
  return out;
}

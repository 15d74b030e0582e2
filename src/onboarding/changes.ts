// What the audit log says of a registry change: one `registry_change` event per stage move (the stage it
// moved to, from where, when, by whom, why and on what evidence), a revision without a move as what it is
// (a probe or test login report, or an edit naming its fields), and a record removed while running.
import { currentStage, type HistoryEntry, type RegistryRecord } from './record.ts';

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
          at: last.at,
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

const sameEntries = (a: readonly HistoryEntry[], b: readonly HistoryEntry[]) =>
  a.length === b.length && a.every((entry, i) => JSON.stringify(entry) === JSON.stringify(b[i]));

/** The audit events of a record read some revisions after `previous`: one per history entry added since
 * (two moves between two looks are two events, each with its own person, reason and evidence), the
 * reports and edits with the last; a revision without a move, or a history rewritten, one event. */
export function changeDetails(record: RegistryRecord, previous: RegistryRecord | undefined): Record<string, unknown>[] {
  const kept = previous?.history.length ?? 0;
  const added = record.history.length - kept;
  if (!previous || added < 2 || !sameEntries(record.history.slice(0, kept), previous.history))
    return [changeDetail(record, previous)];
  const details: Record<string, unknown>[] = [];
  let before = previous;
  for (let n = kept + 1; n < record.history.length; n++) {
    // the record as it stood right after this move: the move alone, its reports still the earlier ones;
    // which revision each move got is not kept, so each is named with the revision it was read in
    const step = { ...previous, revision: record.revision, history: record.history.slice(0, n) };
    details.push(changeDetail(step, before));
    before = step;
  }
  details.push(changeDetail(record, before));
  return details;
}

/** The audit event of a record whose file is gone: its provider is offered to nobody from now on. */
export function removalDetail(previous: RegistryRecord, path: string): Record<string, unknown> {
  return {
    record: previous.id,
    revision: previous.revision,
    stage: null,
    from: currentStage(previous),
    removed: path,
    offered: false,
  };
}

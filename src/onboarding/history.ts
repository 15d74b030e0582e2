// What a record's history must be for the gateway to act on it: the process's own moves one after the
// other (those `providers transition` makes, so a record written by hand cannot skip a stage), in time
// order and not ahead of the clock, and each stage reached with the evidence its move needed recorded:
// a passing security probe for testing and production, a successful test login for production. Only
// the latest probe and test login are kept, so a failed one dated after the stage was reached is a later
// re-run (what a suspension answers), not a gate that never passed. Each problem names the entry.
import { isLegalMove } from './process.ts';
import { type HistoryEntry, type RecordStage, type RegistryRecord, stageBeforeSuspension } from './record.ts';

/** How far the clocks of the host writing a record and the host reading it may disagree. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Whether history[i] follows history[i - 1] as the process allows (a resumption returns where it left). */
function legalStep(history: readonly HistoryEntry[], i: number): boolean {
  const from = history[i - 1]!.stage;
  const to = history[i]!.stage;
  if (from === 'suspended' && to !== 'refused' && to !== 'suspended')
    return to === stageBeforeSuspension({ history: history.slice(0, i) });
  return isLegalMove(from, to);
}

/** The last entry that moved the provider into one of `stages`; with `resumptions: false` not by a
 * resumption (which asks for the probe again, not for a new test login). */
function lastMove(history: readonly HistoryEntry[], stages: RecordStage[], resumptions: boolean): number {
  for (let i = history.length - 1; i > 0; i--)
    if (stages.includes(history[i]!.stage) && (resumptions || history[i - 1]!.stage !== 'suspended')) return i;
  return -1;
}

function gateProblem(
  record: RegistryRecord,
  entry: number,
  field: 'probe' | 'test_login',
  needed: string,
): string | undefined {
  if (entry < 0) return undefined;
  const { stage, at } = record.history[entry]!;
  const report = record[field];
  if (report && (report.ok || Date.parse(report.at) > Date.parse(at))) return undefined;
  const held = report ? `only a failed one of ${report.at}` : 'none';
  return `history[${entry}]: ${stage} needs ${needed} recorded (${field}); the record has ${held}`;
}

/** Why the record's history cannot be acted on (empty when it can), each naming its field. */
export function historyProblems(record: RegistryRecord, now = new Date()): string[] {
  const { history } = record;
  const latest = now.getTime() + CLOCK_SKEW_MS;
  const problems: string[] = [];
  if (history[0]!.stage !== 'application')
    problems.push(`history[0].stage: the process begins with application, not ${history[0]!.stage}`);
  history.forEach((entry, i) => {
    const at = Date.parse(entry.at);
    if (at > latest) problems.push(`history[${i}].at: ${entry.at} is in the future`);
    if (i === 0) return;
    const before = history[i - 1]!;
    if (at < Date.parse(before.at))
      problems.push(`history[${i}].at: ${entry.at} is earlier than the entry before it (${before.at})`);
    if (!legalStep(history, i)) problems.push(`history[${i}]: ${before.stage} -> ${entry.stage} is not a legal move`);
  });
  for (const field of ['probe', 'test_login'] as const) {
    const report = record[field];
    if (report && Date.parse(report.at) > latest) problems.push(`${field}.at: ${report.at} is in the future`);
  }
  const probe = gateProblem(
    record,
    lastMove(history, ['testing', 'production'], true),
    'probe',
    'a passing security probe',
  );
  const login = gateProblem(record, lastMove(history, ['production'], false), 'test_login', 'a successful test login');
  for (const problem of [probe, login]) if (problem) problems.push(problem);
  return problems;
}

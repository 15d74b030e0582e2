// What the zeroed-tail tests share: a real log as a power cut leaves it when it came after a write of entries
// was durable but before the checkpoint over them: entries 0..6 under checkpoint 0 (which the witness holds),
// entries 7 and 8 under none. The checkpoint close() then signed over them (checkpoint 1) is kept apart, as
// the bytes a cut during its own write would have left.
import { dirname, join } from 'node:path';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { lineStarts } from './tampered-log.ts';
import { configFile, loginEvents, testLog, type TestLog } from './helpers.ts';

export interface CrashedLog {
  t: TestLog;
  config: string;
  /** path of the (only) segment */
  segment: string;
  /** its 9 lines, each with its newline */
  lines: Buffer[];
  /** the line of checkpoint 1 (over entries 0..8), with its newline, not in checkpoints.jsonl */
  unwritten: Buffer;
  /** the witness file, holding checkpoint 0 */
  witness: string;
  /** what it held after checkpoint 1 */
  witnessedLater: Buffer;
}

export async function crashedLog(): Promise<CrashedLog> {
  const t = testLog({ checkpoint_every: 1000, checkpoint_interval_ms: 3_600_000 });
  const log = await t.open();
  for (const e of loginEvents(0)) await log.record(e);
  await log.checkpoint();
  const witness = join(dirname(t.config.signing_key), 'audit-witness.json');
  const witnessed = readFileSync(witness);
  for (const e of loginEvents(1).slice(0, 2)) await log.record(e);
  const checkpointsPath = join(t.dir, CHECKPOINTS_FILE);
  const checkpoints = readFileSync(checkpointsPath);
  await log.close();
  const unwritten = readFileSync(checkpointsPath).subarray(checkpoints.length);
  const witnessedLater = readFileSync(witness);
  writeFileSync(checkpointsPath, checkpoints);
  writeFileSync(witness, witnessed);
  const segment = join(t.dir, readdirSync(t.dir).find((f) => f.startsWith('segment-'))!);
  const buf = readFileSync(segment);
  const starts = [...lineStarts(buf), buf.length];
  const lines = starts.slice(0, -1).map((start, k) => buf.subarray(start, starts[k + 1]));
  return { t, config: configFile(t), segment, lines, unwritten, witness, witnessedLater };
}

/** A page of a write that extended the file but never landed: read back as zeroes. */
export const zeroedPage = (length = 4096): Buffer => Buffer.alloc(length);

/** The names of the files in `dir`/torn (none when it is not there). */
export function tornFiles(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'torn'));
  } catch {
    return [];
  }
}

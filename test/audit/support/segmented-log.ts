// A real log of several segments (small segment_max_bytes), each begun by a checkpoint carrying the tree's
// frontier, and the ways the start-up tests alter it.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, decodeCheckpointLine, encodeCheckpointLine } from '../../../src/audit/checkpoint-format.ts';
import { CHECKPOINTS_FILE, decodeEntryLine, encodeEntryLine } from '../../../src/audit/format.ts';
import { loginEvents, testLog, type TestLog } from '../helpers.ts';

export const segmentsOf = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('segment-'))
    .sort();

/** 10 logins (70 entries) recorded one event at a time into segments of 4 KiB, a checkpoint every 5. */
export async function segmentedLog(settings: Record<string, unknown> = {}): Promise<TestLog> {
  const t = testLog({ checkpoint_every: 5, segment_max_bytes: 4096, ...settings });
  const log = await t.open();
  for (let n = 0; n < 10; n++) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
  t.logger.lines.length = 0;
  return t;
}

const linesOf = (path: string) => readFileSync(path, 'utf8').split('\n').slice(0, -1);
const writeLines = (path: string, lines: string[]) => writeFileSync(path, `${lines.join('\n')}\n`);

/** Rewrites entry line `line` (1-based) of `file` with `edit` applied to its body, its leaf hash made again
 * (what anyone who can write the directory can do without a key). */
export function rehashEntry(dir: string, file: string, line: number, edit: (body: string) => string): void {
  const path = join(dir, file);
  const lines = linesOf(path);
  const { body } = decodeEntryLine(Buffer.from(lines[line - 1]!));
  lines[line - 1] = encodeEntryLine(edit(body.toString())).line.trimEnd();
  writeLines(path, lines);
}

/** Swaps two entry lines of `file` (each still a well-formed entry with its own leaf hash). */
export function swapEntries(dir: string, file: string, a: number, b: number): void {
  const path = join(dir, file);
  const lines = linesOf(path);
  [lines[a - 1], lines[b - 1]] = [lines[b - 1]!, lines[a - 1]!];
  writeLines(path, lines);
}

/** The checkpoints of the log, as lines decoded, with their 1-based line numbers. */
export function checkpointLines(dir: string): { line: number; checkpoint: Checkpoint }[] {
  return linesOf(join(dir, CHECKPOINTS_FILE)).map((text, i) => ({
    line: i + 1,
    checkpoint: decodeCheckpointLine(text),
  }));
}

/** Replaces checkpoint line `line` by `checkpoint`, canonically encoded. */
export function replaceCheckpoint(dir: string, line: number, checkpoint: Checkpoint): void {
  const path = join(dir, CHECKPOINTS_FILE);
  const lines = linesOf(path);
  lines[line - 1] = encodeCheckpointLine(checkpoint).trimEnd();
  writeLines(path, lines);
}

/** The fields of the start's 'audit log opened' line. */
export function openedLine(t: TestLog): Record<string, unknown> {
  const line = t.logger.lines
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => l.msg === 'audit log opened');
  if (!line) throw new Error(`no 'audit log opened' line in ${t.logger.lines.join('\n')}`);
  return line;
}

// Reads checkpoints.jsonl for a scan, streamed (./checkpoint-file.ts), in two passes that each hold one
// checkpoint at a time: the first checks each checkpoint's form, signature (every one, or only the latest),
// number sequence, growing size and non-decreasing time, and a torn last line; the second hands the
// checkpoints to the entries' pass in order, to compare each root with the tree when it reaches that size.
// Only the latest RECENT_CHECKPOINTS are kept (a witness is normally one of them); older ones are looked up
// in the file again (findCheckpoint).
import type { Checkpoint } from './checkpoint-format.ts';
import {
  CheckpointFile,
  type CheckpointLine,
  checkpointOf,
  decodeLine,
  findCheckpointInFile,
  type LineStart,
} from './checkpoint-file.ts';
import { CHECKPOINTS_FILE, type Position } from './format.ts';
import { type CheckpointVerifier, verifyCheckpointSignature } from './keys.ts';
import type { LocatedCheckpoint, ProblemList, TornTail } from './scan-problems.ts';

export const RECENT_CHECKPOINTS = 256;
/** lines refused by the first pass that the second skips (not compared with the tree: their problem is
 * named already); beyond this many the log is long past its problem limit, and they are compared too */
const MAX_REFUSED_LINES = 1024;

/** The checkpoints of a log as a scan leaves them: the latest few, how many there are, where to find the rest. */
export interface CheckpointHistory {
  dir: string;
  /** the latest checkpoints, oldest first, at most RECENT_CHECKPOINTS */
  checkpoints: LocatedCheckpoint[];
  /** every valid checkpoint of the log */
  checkpointCount: number;
}

/** The checkpoint of the log `match` accepts: among the latest, else read from the file. */
export function findCheckpoint(history: CheckpointHistory, match: (c: Checkpoint) => boolean): Checkpoint | undefined {
  const recent = history.checkpoints.find((located) => match(located.checkpoint))?.checkpoint;
  if (recent || history.checkpointCount <= history.checkpoints.length) return recent;
  return findCheckpointInFile(history.dir, match);
}

/** Problems of `checkpoint` as the successor of `previous` (none: the first read, numbered `firstN`). */
export function sequenceProblems(checkpoint: Checkpoint, previous: Checkpoint | undefined, firstN = 0): string[] {
  const problems: string[] = [];
  const expectedN = previous ? previous.n + 1 : firstN;
  if (checkpoint.n !== expectedN)
    problems.push(
      `checkpoint number ${checkpoint.n} where ${expectedN} was expected (checkpoints removed, inserted or reordered)`,
    );
  if (previous && checkpoint.size < previous.size)
    problems.push(`tree size ${checkpoint.size} is smaller than the previous checkpoint's ${previous.size}`);
  if (previous && checkpoint.time < previous.time)
    problems.push(`time ${checkpoint.time} is earlier than the previous checkpoint's ${previous.time}`);
  return problems;
}

export const positionOf = (line: CheckpointLine): Position => ({
  file: CHECKPOINTS_FILE,
  line: line.line,
  offset: line.start,
});

export interface CheckpointsRead {
  checkpoints: LocatedCheckpoint[];
  count: number;
  torn?: TornTail;
  /** bytes of the file the first pass read: the second reads no further */
  size: number;
  /** lines the first pass refused */
  refused: Set<number>;
  /** of each size of `frontierAt`, the last checkpoint that carries a frontier (its signature checked, or
   * refused) */
  frontiers: Map<number, LocatedCheckpoint>;
  /** where the read began when not at the first line (./checkpoint-seek.ts): the second pass begins there too */
  from?: LineStart;
}

/** The first pass (see the top). */
export async function readCheckpoints(
  dir: string,
  key: CheckpointVerifier | undefined,
  signatures: 'all' | 'latest',
  problems: ProblemList,
  frontierAt: readonly number[] = [],
  from?: LineStart & { n: number },
): Promise<CheckpointsRead> {
  const read: CheckpointsRead = { checkpoints: [], count: 0, size: 0, refused: new Set(), frontiers: new Map() };
  const file = CheckpointFile.open(dir, undefined, from);
  if (!file) return read;
  if (from) read.from = { offset: from.offset, line: from.line };
  read.size = file.size;
  const refuse = (line: CheckpointLine, message: string) => {
    problems.checkpoint('checkpoint', positionOf(line), message);
    if (read.refused.size < MAX_REFUSED_LINES) read.refused.add(line.line);
  };
  const signed = async (checkpoint: Checkpoint, line: CheckpointLine): Promise<boolean> => {
    if (!key) {
      problems.checkpoint('key', positionOf(line), 'no checkpoint public key to verify the signature with');
      return true;
    }
    try {
      await verifyCheckpointSignature(checkpoint, key);
      return true;
    } catch (err) {
      refuse(line, (err as Error).message);
      return false;
    }
  };
  let previous: Checkpoint | undefined;
  // with signatures 'latest' only the last line's is checked, once it is known to be the last
  let unsigned: { checkpoint: Checkpoint; line: CheckpointLine } | undefined;
  const accept = (checkpoint: Checkpoint, line: CheckpointLine) => {
    for (const message of sequenceProblems(checkpoint, previous, from?.n))
      problems.checkpoint('checkpoint', positionOf(line), message);
    previous = checkpoint;
    read.count++;
    read.checkpoints.push({ checkpoint, position: positionOf(line) });
    if (read.checkpoints.length > RECENT_CHECKPOINTS) read.checkpoints.shift();
  };
  const frontiers = new Map<number, { checkpoint: Checkpoint; line: CheckpointLine }>();
  let lastLine = 0;
  // The writer appends one checkpoint per durable write, each once the one before is on disk: a power cut can
  // leave zeroed bytes (NUL, which no checkpoint holds) only in the last line, the one write not acknowledged.
  // So a line holding them is the torn tail when it is the file's last complete line (with any bytes after it),
  // and damage when another line follows. A witness is handed a checkpoint only once it is durable: one it
  // holds, zeroed, leaves the log shorter than the witness, which refuses the start and a repair.
  let zeroed: { line: CheckpointLine; message: string } | undefined;
  for (const line of file.lines()) {
    lastLine = line.line;
    if (zeroed) refuse(zeroed.line, zeroed.message);
    zeroed = undefined;
    let checkpoint: Checkpoint;
    try {
      checkpoint = decodeLine(line);
    } catch (err) {
      // a zeroed last line is no checkpoint: the one before it stays the latest, whose signature is checked
      // before the start or a repair moves anything
      if (line.text?.includes('\0')) zeroed = { line, message: (err as Error).message };
      else {
        unsigned = undefined;
        refuse(line, (err as Error).message);
      }
      continue;
    }
    if (signatures === 'all' && !(await signed(checkpoint, line))) continue;
    if (signatures === 'latest') unsigned = { checkpoint, line };
    accept(checkpoint, line);
    if (checkpoint.frontier && frontierAt.includes(checkpoint.size))
      frontiers.set(checkpoint.size, { checkpoint, line });
  }
  if (unsigned && !(await signed(unsigned.checkpoint, unsigned.line))) {
    // not a checkpoint of this log after all: the one before it is the latest
    read.checkpoints.pop();
    read.count--;
  }
  for (const [size, frontier] of frontiers) {
    // a scan grows the tree from it: signed, whichever checkpoint the latest is (refused, the scan is too)
    if (signatures === 'latest' && frontier.line !== unsigned?.line) await signed(frontier.checkpoint, frontier.line);
    read.frontiers.set(size, { checkpoint: frontier.checkpoint, position: positionOf(frontier.line) });
  }
  const tornAt = zeroed?.line.start ?? file.tornAt;
  if (tornAt === undefined) return read;
  read.size = tornAt; // the second pass has nothing to read in a torn tail
  const torn: TornTail = { file: CHECKPOINTS_FILE, offset: tornAt, length: file.size - tornAt, line: lastLine + 1 };
  if (zeroed) torn.line = zeroed.line.line;
  problems.checkpoint(
    'torn',
    { file: CHECKPOINTS_FILE, line: torn.line, offset: torn.offset },
    zeroed
      ? `${torn.length} bytes from a last line of zeroed bytes (NUL) on: a checkpoint write a power cut interrupted`
      : `${torn.length} bytes of an incomplete checkpoint after the last complete line`,
  );
  read.torn = torn;
  return read;
}

/** The second pass: the checkpoints the first accepted, one at a time, in the file's order; only those of trees
 * of `from` to `upTo` entries (the first pass checked that sizes never decrease). */
export function* checkpointsInOrder(
  dir: string,
  read: Pick<CheckpointsRead, 'size' | 'refused' | 'from'>,
  from = 0,
  upTo = Number.POSITIVE_INFINITY,
): Generator<LocatedCheckpoint> {
  if (read.size === 0) return;
  const file = CheckpointFile.open(dir, read.size, read.from);
  if (!file) return;
  for (const line of file.lines()) {
    if (read.refused.has(line.line)) continue;
    const checkpoint = checkpointOf(line);
    if (checkpoint && checkpoint.size >= from && checkpoint.size <= upTo)
      yield { checkpoint, position: positionOf(line) };
  }
}

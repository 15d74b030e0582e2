// The start's read of checkpoints.jsonl, from the frontier checkpoint it grows the tree from (./scan-frontier.ts)
// rather than from the file's first line: the file is never rolled over (about 2 GiB a year), and reading it
// through made the start grow with the log's age. The lines are in increasing `n` and `size`, so that checkpoint
// (the last of the latest segment's first index that carries a frontier) is found by a binary search on byte
// offsets: from a probe offset, on to the next line, decoded. A probe that lands on a line that is no checkpoint
// (damaged, zeroed, longer than any checkpoint) gives no answer to go by: the start then reads the file through
// as before, which names what is wrong. From the line found on, the start checks everything it checked before;
// the lines before it are checked after the start with the older segments (./checkpoints-before.ts). The start
// numbers the line found `n` + 1 (its checkpoint's number), which it is once the lines before it verify.
import { type Checkpoint, decodeCheckpointLine } from './checkpoint-format.ts';
import { CheckpointFile, type LineStart, MAX_CHECKPOINT_LINE } from './checkpoint-file.ts';
import { CHECKPOINTS_FILE } from './format.ts';
import { type CheckpointVerifier, verifyCheckpointSignature } from './keys.ts';
import { type CheckpointsRead, readCheckpoints } from './scan-checkpoints.ts';
import type { ProblemList } from './scan-problems.ts';

/** A checkpoint line found by the search. */
export interface FoundCheckpoint extends LineStart {
  checkpoint: Checkpoint;
}

/** the writer signs a checkpoint only over new entries, and at most one more (with the frontier) when a segment
 * begins: many lines of one size are nothing it writes, and the search gives up on them */
const MAX_SAME_SIZE = 4096;
/** a probe reads this much: the rest of the line it lands in and the whole line after it */
const WINDOW = 2 * (MAX_CHECKPOINT_LINE + 1);

/** What a probe finds at or after an offset: a checkpoint line, the end of the complete lines, or nothing to
 * go by (undefined). */
type Probe = { start: number; end: number; checkpoint: Checkpoint } | 'end' | undefined;

class Prober {
  private readonly file: CheckpointFile;
  private readonly buf = Buffer.allocUnsafe(WINDOW);

  constructor(file: CheckpointFile) {
    this.file = file;
  }

  /** The first line that begins at `offset` or after it. */
  lineFrom(offset: number): Probe {
    // a line begins at `offset` when the byte before it ends a line
    const from = Math.max(0, offset - 1);
    const read = this.file.readAt(this.buf, from);
    const window = this.buf.subarray(0, read);
    const atEnd = from + read >= this.file.size;
    let start = 0;
    if (offset > 0) {
      const newline = window.indexOf(0x0a);
      if (newline === -1) return atEnd ? 'end' : undefined;
      if (newline > MAX_CHECKPOINT_LINE) return undefined;
      start = newline + 1;
    }
    const end = window.indexOf(0x0a, start);
    // bytes after the last newline are a torn tail: no complete line begins here (not at the end, the window holds
    // more than a checkpoint line after `start`: no newline there is a line longer than any checkpoint)
    if (end === -1) return atEnd ? 'end' : undefined;
    if (end - start > MAX_CHECKPOINT_LINE) return undefined;
    try {
      const checkpoint = decodeCheckpointLine(window.subarray(start, end).toString());
      return { start: from + start, end: from + end + 1, checkpoint };
    } catch {
      return undefined;
    }
  }

  /** The last checkpoint of tree size `size` that carries a frontier (undefined: none, or nothing to go by). */
  find(size: number): FoundCheckpoint | undefined {
    // every line that begins before `lo` is of a smaller tree; the first line from `hi` on is not (or is none)
    let lo = 0;
    let hi = this.file.size;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const probe = this.lineFrom(mid);
      if (probe === undefined) return undefined;
      if (probe === 'end' || probe.checkpoint.size >= size) hi = mid;
      else lo = probe.end;
    }
    // `lo`: the first line of a tree of `size` or more; of those of `size`, the last with a frontier
    let found: FoundCheckpoint | undefined;
    for (let at = lo, k = 0; k < MAX_SAME_SIZE; k++) {
      const probe = this.lineFrom(at);
      if (probe === undefined) return undefined;
      if (probe === 'end' || probe.checkpoint.size !== size) return found;
      const { checkpoint } = probe;
      if (checkpoint.frontier) found = { offset: probe.start, line: checkpoint.n + 1, checkpoint };
      at = probe.end;
    }
    return undefined;
  }
}

/** The frontier checkpoint of `size`, found by the search (see the top). */
export function seekFrontierCheckpoint(dir: string, size: number): FoundCheckpoint | undefined {
  const file = CheckpointFile.open(dir);
  if (!file) return undefined;
  try {
    return new Prober(file).find(size);
  } finally {
    file.close();
  }
}

/** The start's read of the checkpoints from the frontier checkpoint of `frontierAt` on, and the retirement's
 * frontier checkpoint of `retiredAt` (./scan-retired.ts), which lies before it, found by the search too and its
 * signature checked; undefined when either is not found or not signed: the caller reads the file through. */
export async function readCheckpointsFromFrontier(
  dir: string,
  key: CheckpointVerifier | undefined,
  problems: ProblemList,
  frontierAt: number,
  retiredAt: number | undefined,
): Promise<(CheckpointsRead & { found: FoundCheckpoint }) | undefined> {
  const found = key && seekFrontierCheckpoint(dir, frontierAt);
  if (!found) return undefined;
  let retired: FoundCheckpoint | undefined;
  if (retiredAt !== undefined) {
    retired = seekFrontierCheckpoint(dir, retiredAt);
    if (!retired) return undefined;
    try {
      await verifyCheckpointSignature(retired.checkpoint, key);
    } catch {
      return undefined;
    }
  }
  const { checkpoint } = found;
  const read = await readCheckpoints(dir, key, 'latest', problems, [frontierAt], { ...found, n: checkpoint.n });
  // the checkpoints before the line found are counted by their numbers: the pass after the start verifies them
  read.count += checkpoint.n;
  if (retired) {
    const position = { file: CHECKPOINTS_FILE, line: retired.line, offset: retired.offset };
    read.frontiers.set(retired.checkpoint.size, { checkpoint: retired.checkpoint, position });
  }
  return { ...read, found };
}

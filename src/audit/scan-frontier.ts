// A start that does not read the older segments: it grows the tree from the frontier signed at the latest
// segment's start (./checkpoint-format.ts), and checks of the older segments only what costs no reading of
// their entries (the first begins where the log begins: entry 0, or the first kept by a retirement, see
// ./scan-retired.ts; each is a regular file of a size the gateway writes) and the entry just before the latest
// segment, which the first entry's MAC is chained to. The older segments' entries are verified after the start
// (./older-segments.ts).
import { join } from 'node:path';
import { decodeEntryAt, type Position } from './format.ts';
import { FIRST_PREVIOUS } from './entry-mac.ts';
import { CompactTree } from './merkle.ts';
import type { ScanStart } from './scan-entries.ts';
import type { LocatedCheckpoint, ProblemList } from './scan-problems.ts';
import { AuditDirError, type Segment, withSegmentFile } from './segments.ts';
import { readSync } from 'node:fs';

/** an entry is at most 16 KiB, its line a little more: the last line of a segment lies in its last TAIL bytes */
const TAIL = 64 * 1024;

export interface LastEntry {
  leaf: Buffer;
  time: string;
}

/** The last entry of a segment file of `size` > 0 bytes (undefined: a problem was named). */
export function lastEntry(
  fd: number,
  size: number,
  name: string,
  index: number,
  problems: ProblemList,
): LastEntry | undefined {
  const from = Math.max(0, size - TAIL);
  const buf = Buffer.alloc(size - from);
  const read = readSync(fd, buf, 0, buf.length, from);
  // line 0: the last line of the file, which a start does not count its way to
  const at = (offset: number): Position => ({ file: name, line: 0, offset: from + offset, index });
  if (read !== buf.length || buf[buf.length - 1] !== 0x0a) {
    problems.entry('entry', at(buf.length), 'segment ends inside an entry (bytes removed, or a newline deleted)');
    return undefined;
  }
  const newline = buf.lastIndexOf(0x0a, buf.length - 2);
  if (newline === -1 && from > 0) {
    problems.entry('entry', at(0), `last line longer than any entry the gateway writes`);
    return undefined;
  }
  try {
    const { entry, leaf } = decodeEntryAt(buf, newline + 1, buf.length - 1);
    if (entry.i !== index)
      throw new Error(
        `entry carries index ${entry.i} where ${index} was expected (entries removed, inserted or reordered)`,
      );
    return { leaf, time: entry.t };
  } catch (err) {
    problems.entry('entry', at(newline + 1), (err as Error).message);
    return undefined;
  }
}

/** The tree `frontier` (a signed checkpoint carrying one) stands for; undefined when its frontier does not fold
 * to its root (named). */
export function treeFromFrontier(frontier: LocatedCheckpoint, problems: ProblemList): CompactTree | undefined {
  const { checkpoint, position } = frontier;
  const tree = CompactTree.fromFrontier(
    checkpoint.size,
    (checkpoint.frontier ?? []).map((node) => Buffer.from(node, 'hex')),
  );
  if (tree.root().toString('hex') === checkpoint.root) return tree;
  problems.checkpoint(
    'checkpoint',
    position,
    `frontier does not fold to the checkpoint's root (a checkpoint the gateway did not write: no tree can be grown from it)`,
  );
  return undefined;
}

/** Where a start scan of the latest segment begins, from `frontier` (a signed checkpoint at that segment's
 * start); undefined when its frontier does not fold to its root (named). `segments`: those of the log (after
 * `begin`, where a retirement left it); `retired`: what the retirement says of the entry before it. */
export function startFromFrontier(
  dir: string,
  segments: readonly Segment[],
  frontier: LocatedCheckpoint,
  problems: ProblemList,
  retired?: ScanStart,
): ScanStart | undefined {
  const tree = treeFromFrontier(frontier, problems);
  if (!tree) return undefined;
  const { checkpoint } = frontier;
  const begin = retired?.tree.size ?? 0;
  const older = segments.slice(0, -1);
  if (older[0] && older[0].first !== begin)
    problems.entry(
      'segment',
      { file: older[0].name, line: 1, offset: 0, index: begin },
      `segment starts at entry ${older[0].first} but the log begins at entry ${begin} (segment removed or renamed)`,
    );
  let last: LastEntry | undefined;
  let examined = false;
  for (const segment of older.reverse()) {
    try {
      // the entry before the latest segment: the last line of the last older segment that has any
      withSegmentFile(join(dir, segment.name), (fd, size) => {
        if (examined || size === 0) return;
        examined = true;
        last = lastEntry(fd, size, segment.name, checkpoint.size - 1, problems);
      });
    } catch (err) {
      if (!(err instanceof AuditDirError)) throw err;
      problems.entry('segment', { file: segment.name, line: 1, offset: 0, index: segment.first }, err.message);
    }
  }
  if (!examined && retired) return { tree, lastLeaf: retired.lastLeaf, lastTime: retired.lastTime };
  return { tree, lastLeaf: last?.leaf ?? FIRST_PREVIOUS, lastTime: last?.time };
}

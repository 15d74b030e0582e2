// Reads an audit log directory once, front to back, checking everything it can: each entry's format
// and leaf hash, the index sequence, non-decreasing times, the Merkle root at every checkpoint, each
// checkpoint's form, number, signature and time, and torn tails. `audit verify`, the writer's start-up
// check, `audit query` and `audit prove` all use this one pass.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EntryMac } from './entry-mac.ts';
import { type DecodedEntry, PUBLIC_KEY_FILE, type Position } from './format.ts';
import { type CheckpointVerifier, loadCheckpointPublicKey } from './keys.ts';
import type { CompactTree } from './merkle.ts';
import { type FoundCheckpoint, readCheckpointsFromFrontier } from './checkpoint-seek.ts';
import { type CheckpointHistory, checkpointsInOrder, readCheckpoints } from './scan-checkpoints.ts';
import { EntryScan } from './scan-entries.ts';
import { type LocatedCheckpoint, type Problem, ProblemList, type TornTail } from './scan-problems.ts';
import type { OlderSegments } from './older-segments.ts';
import { startFromFrontier } from './scan-frontier.ts';
import { keptSegments, type Retirement, retiredMarker, retiredStart, retirementOf } from './scan-retired.ts';
import { listSegments, type Segment } from './segments.ts';

export { type CheckpointHistory, findCheckpoint } from './scan-checkpoints.ts';
export {
  describeProblem,
  type LocatedCheckpoint,
  type Problem,
  type ProblemKind,
  type TornTail,
} from './scan-problems.ts';

export interface ScanOptions {
  /** pinned checkpoint key; without one the key stored in the directory is used (with a warning) */
  key?: CheckpointVerifier | undefined;
  /** which checkpoint signatures to check: every one (verify) or the latest (writer start-up) */
  signatures?: 'all' | 'latest';
  /** called once the checkpoints are read, before the first entry, with the latest of them (oldest first) and
   * the retirement the log begins after, if any */
  onCheckpoints?: (checkpoints: LocatedCheckpoint[], retirement: Retirement | undefined) => void;
  /** called for every well-formed entry, in order */
  onEntry?: (entry: DecodedEntry, position: Position) => void;
  maxProblems?: number;
  /** the entry MAC key: entries after the latest checkpoint (which no signature covers yet) are
   * authenticated by it; without it they are counted as unauthenticated (`tail`) */
  mac?: EntryMac | undefined;
  /** the writer's start: when a signed checkpoint at the latest segment's start carries its frontier, read only
   * that segment's entries (./scan-frontier.ts) and leave the older ones to `older` */
  fromLatestSegment?: boolean;
}

export interface ScanResult extends CheckpointHistory {
  entries: number;
  tree: CompactTree;
  /** the size of checkpoints.jsonl as read, up to a torn tail (0 when it is missing) */
  checkpointsBytes: number;
  problems: Problem[];
  /** problems beyond maxProblems, counted only */
  moreProblems: number;
  torn: TornTail[];
  warnings: string[];
  keyPinned: boolean;
  key?: CheckpointVerifier;
  lastTime?: string;
  /** the leaf hash of the last entry (the next entry's MAC is chained to it) */
  lastLeaf: Buffer;
  lastSegment?: { name: string; first: number; bytes: number };
  /** entries after the latest checkpoint: covered by no signature */
  tail: number;
  /** whether those entries' MACs were checked (a MAC key was given) */
  tailAuthenticated: boolean;
  /** with fromLatestSegment: the older segments, whose entries this scan did not read (./older-segments.ts) */
  older?: OlderSegments;
  /** the entries before this one were retired (./scan-retired.ts): the log begins here */
  retiredBefore?: number;
  /** with fromLatestSegment: the checkpoint line checkpoints.jsonl was read from, when not from its first line
   * (./checkpoint-seek.ts); the lines before it are verified with the older segments */
  checkpointsFrom?: FoundCheckpoint;
}

/** The key pinned by the caller, or the copy kept in the directory (which whoever edits the log can replace). */
async function checkpointKey(
  dir: string,
  pinned: CheckpointVerifier | undefined,
  warnings: string[],
): Promise<CheckpointVerifier | undefined> {
  if (pinned || !existsSync(join(dir, PUBLIC_KEY_FILE))) return pinned;
  const key = await loadCheckpointPublicKey(join(dir, PUBLIC_KEY_FILE));
  warnings.push(
    `checkpoint key ${key.kid} taken from the log directory; pin it with --public-key to detect a re-signed log`,
  );
  return key;
}

export async function scanLog(dir: string, options: ScanOptions = {}): Promise<ScanResult> {
  const problems = new ProblemList(options.maxProblems ?? 50);
  const warnings: string[] = [];
  const listed = listSegments(dir);
  if (listed.others.length) warnings.push(`files that are not part of the log: ${listed.others.join(', ')}`);
  const key = await checkpointKey(dir, options.key, warnings);
  const marker = await retiredMarker(dir, key, problems);
  const { kept: segments, leftover } = keptSegments(listed.segments, marker?.before ?? 0);
  if (leftover.length)
    warnings.push(
      `segments retired (before entry ${marker?.before}) still present, not read: ${leftover.map((s) => s.name).join(', ')}`,
    );
  const latestSegment = segments.at(-1);
  const frontierAt = options.fromLatestSegment && segments.length > 1 ? latestSegment?.first : undefined;
  const sizes = [frontierAt, marker?.before].filter((size) => size !== undefined);
  // the start reads checkpoints.jsonl from the checkpoint it grows the tree from, when it can find it (it checks
  // the latest signature only: the lines before are left to the older segments' pass, which checks none)
  const sought =
    frontierAt === undefined || options.signatures !== 'latest'
      ? undefined
      : await readCheckpointsFromFrontier(dir, key, problems, frontierAt, marker?.before);
  const read = sought ?? (await readCheckpoints(dir, key, options.signatures ?? 'all', problems, sizes));
  const { checkpoints } = read;
  const latest = checkpoints.at(-1)?.checkpoint;
  const retirement =
    marker && retirementOf(marker, read.frontiers, read.refused, latest?.size ?? 0, segments, problems);
  options.onCheckpoints?.(checkpoints, retirement);
  const retired = retirement ? retiredStart(retirement) : undefined;
  const frontier = frontierAt === undefined ? undefined : read.frontiers.get(frontierAt);
  const fromFrontier =
    frontier && !read.refused.has(frontier.position.line)
      ? startFromFrontier(dir, segments, frontier, problems, retired)
      : undefined;
  const start = frontier ? fromFrontier : retired;
  const from = start?.tree.size ?? 0;
  const scan = new EntryScan(checkpointsInOrder(dir, read, from), latest?.size ?? 0, problems, options, start);
  // a frontier not signed, or not folding to its root, is named: no tree can be grown from it (nor from a
  // retirement without one)
  if (frontier ? fromFrontier : !marker || retirement) {
    scan.segments(dir, frontier ? segments.slice(-1) : segments, true);
    scan.checkCoverage();
  }

  const entries = scan.tree.size;
  if (!latest && entries > 0) warnings.push('no checkpoint yet: the entries are not yet covered by a signature');
  if (latest && latest.size < entries)
    warnings.push(`${entries - latest.size} entries after the latest checkpoint are not yet covered by a signature`);

  const result: ScanResult = {
    dir,
    entries,
    tree: scan.tree,
    lastLeaf: scan.lastLeaf,
    checkpoints,
    checkpointCount: read.count,
    checkpointsBytes: read.size,
    problems: problems.all(),
    moreProblems: problems.more,
    torn: [read.torn, scan.torn].filter((torn) => torn !== undefined),
    warnings,
    keyPinned: options.key !== undefined,
    tail: Math.max(0, entries - (latest?.size ?? 0)),
    tailAuthenticated: options.mac !== undefined,
  };
  if (key) result.key = key;
  if (scan.lastTime) result.lastTime = scan.lastTime;
  if (scan.lastSegment) result.lastSegment = scan.lastSegment;
  if (retirement) result.retiredBefore = retirement.before;
  if (sought) result.checkpointsFrom = sought.found;
  if (fromFrontier && frontier) result.older = olderSegments(dir, segments, frontier, read, retirement, sought?.found);
  return result;
}

function olderSegments(
  dir: string,
  segments: Segment[],
  frontier: LocatedCheckpoint,
  read: { size: number; refused: Set<number> },
  retirement: Retirement | undefined,
  checkpointsFrom: FoundCheckpoint | undefined,
): OlderSegments {
  const older: OlderSegments = {
    dir,
    segments: segments.slice(0, -1),
    next: segments.at(-1)!,
    frontier,
    checkpointsBytes: read.size,
    refused: [...read.refused],
  };
  if (retirement) older.retirement = retirement;
  if (checkpointsFrom) older.checkpointsFrom = checkpointsFrom;
  return older;
}

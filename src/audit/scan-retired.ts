// A scan of a log whose oldest segments were retired (./retention.ts): with a valid signed marker
// (./retired-marker.ts) the log begins at its entry `before`. Its first segment must begin there; segments
// before it that are still present (a retirement cut short between the marker and their removal) are no longer
// part of the log: not read, named in a warning, removed by the next retirement. The tree grows from the
// signed frontier checkpoint of size `before`; checkpoints of smaller trees keep their form, number and
// signature checks but have no entries left to be compared with. The MAC of entry `before` is chained to the
// leaf hash the marker signs. A marker that does not verify, or whose `before` is the size of no signed
// frontier checkpoint, is a problem of the log (the start refused, `verify` failing).
import { CHECKPOINTS_FILE } from './format.ts';
import type { Checkpoint } from './checkpoint-format.ts';
import { CompactTree } from './merkle.ts';
import type { CheckpointVerifier } from './keys.ts';
import { readRetiredMarker, RETIRED_FILE, type RetiredMarker } from './retired-marker.ts';
import type { ScanStart } from './scan-entries.ts';
import { treeFromFrontier } from './scan-frontier.ts';
import type { LocatedCheckpoint, ProblemList } from './scan-problems.ts';
import type { Segment } from './segments.ts';

/** A verified retirement, as plain data (it is handed to the older segments' worker thread). */
export interface Retirement {
  before: number;
  /** hex leaf hash of entry before - 1 */
  leaf: string;
  /** the signed checkpoint of size `before` whose frontier the tree grows from */
  checkpoint: Checkpoint;
}

const markerPosition = { file: RETIRED_FILE, line: 1, offset: 0 };

/** The marker of `dir`, its signature checked with `key`; a marker refused is named and counts as none. */
export async function retiredMarker(
  dir: string,
  key: CheckpointVerifier | undefined,
  problems: ProblemList,
): Promise<RetiredMarker | undefined> {
  const { marker, problem } = await readRetiredMarker(dir, key);
  if (problem) problems.entry('segment', markerPosition, `retirement marker refused: ${problem}`);
  return marker;
}

/** The segments of the log after a retirement at `before`, and those it retired that are still there. */
export function keptSegments(segments: readonly Segment[], before: number): { kept: Segment[]; leftover: Segment[] } {
  return {
    kept: segments.filter((s) => s.first >= before),
    leftover: segments.filter((s) => s.first < before),
  };
}

/** The retirement `marker` stands for, its frontier checkpoint found among `frontiers` (of the sizes asked for
 * when the checkpoints were read); undefined when it has none that the tree can grow from (named). */
export function retirementOf(
  marker: RetiredMarker,
  frontiers: ReadonlyMap<number, LocatedCheckpoint>,
  refused: ReadonlySet<number>,
  latestSize: number,
  kept: readonly Segment[],
  problems: ProblemList,
): Retirement | undefined {
  const { before } = marker;
  const frontier = frontiers.get(before);
  if (!frontier || refused.has(frontier.position.line)) {
    const why =
      before > latestSize
        ? `beyond the log's latest checkpoint (of ${latestSize} entries)`
        : `but no signed checkpoint of ${before} entries carries the tree's frontier (${CHECKPOINTS_FILE})`;
    problems.entry('segment', markerPosition, `retirement marker says the log begins at entry ${before}, ${why}`);
    return undefined;
  }
  if (!treeFromFrontier(frontier, problems)) return undefined;
  // a first segment that begins elsewhere is named by the entries' pass (or the start's check of the older ones)
  if (!kept.length)
    problems.entry(
      'segment',
      { ...markerPosition, index: before },
      `no segment begins at entry ${before}, where the log begins after its retirement (segments removed)`,
    );
  return { before, leaf: marker.leaf, checkpoint: frontier.checkpoint };
}

/** Where the entries' pass begins after `retirement`. */
export function retiredStart(retirement: Retirement): ScanStart {
  const { checkpoint } = retirement;
  const frontier = (checkpoint.frontier ?? []).map((node) => Buffer.from(node, 'hex'));
  // the retired entry's time is not kept: entry `before`'s time is compared with the later ones only
  return {
    tree: CompactTree.fromFrontier(checkpoint.size, frontier),
    lastLeaf: Buffer.from(retirement.leaf, 'hex'),
    lastTime: undefined,
  };
}

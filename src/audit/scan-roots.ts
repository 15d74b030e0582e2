// The checkpoints' side of the entries' pass: the log's checkpoints in file order, each compared with the
// RFC 9162 tree when it reaches that checkpoint's size (root, frontier, and a time no earlier than the last
// entry's), and those the entries never reach named once the entries are read.
import type { CompactTree } from './merkle.ts';
import type { LocatedCheckpoint, ProblemList } from './scan-problems.ts';

export class CheckpointRoots {
  /** the log's checkpoints in order, compared with the tree as it reaches each one's size */
  private readonly checkpoints: Iterator<LocatedCheckpoint>;
  private next: LocatedCheckpoint | undefined;
  private readonly problems: ProblemList;

  constructor(checkpoints: Iterator<LocatedCheckpoint>, problems: ProblemList) {
    this.problems = problems;
    this.checkpoints = checkpoints;
    this.next = this.pull();
  }

  private pull(): LocatedCheckpoint | undefined {
    const next = this.checkpoints.next();
    return next.done ? undefined : next.value;
  }

  /** Checkpoints up to the tree's current size: the tree is compared with those of that size. One of a smaller
   * size comes after one of a larger tree (out of order): the tree is past it, and it is named for that. */
  private due(tree: CompactTree): LocatedCheckpoint[] {
    const due: LocatedCheckpoint[] = [];
    for (; this.next && this.next.checkpoint.size <= tree.size; this.next = this.pull()) {
      const { checkpoint, position } = this.next;
      if (checkpoint.size === tree.size) due.push(this.next);
      else
        this.problems.checkpoint(
          'checkpoint',
          position,
          `tree size ${checkpoint.size} comes after a checkpoint of a larger tree: its root cannot be compared with the entries (checkpoints reordered)`,
        );
    }
    return due;
  }

  /** Compares `tree`, whose last entry has time `lastTime`, with the checkpoints of its current size. */
  check(tree: CompactTree, lastTime: string | undefined): void {
    const due = this.due(tree);
    if (!due.length) return;
    const last = tree.size - 1;
    const root = tree.root().toString('hex');
    for (const { checkpoint, position } of due) {
      if (checkpoint.root !== root)
        this.problems.entry(
          'checkpoint',
          position,
          `root does not match entries 0..${last} (an entry up to index ${last} was altered, removed or inserted)`,
        );
      else if (checkpoint.frontier && checkpoint.frontier.join() !== frontierHex(tree))
        this.problems.entry(
          'checkpoint',
          position,
          `frontier does not match the tree of entries 0..${last} (signed over subtrees these entries do not make)`,
        );
      if (lastTime !== undefined && checkpoint.time < lastTime)
        this.problems.entry(
          'checkpoint',
          position,
          `time ${checkpoint.time} is earlier than its last entry's ${lastTime}`,
        );
    }
  }

  /** Checkpoints that cover more entries than the log's `size` (all that are left once the entries are read). */
  coverage(size: number): void {
    for (; this.next; this.next = this.pull()) {
      const { checkpoint, position } = this.next;
      if (checkpoint.size > size)
        this.problems.entry(
          'checkpoint',
          position,
          `checkpoint covers ${checkpoint.size} entries but the log holds ${size} (entries removed or truncated)`,
        );
    }
  }
}

function frontierHex(tree: CompactTree): string {
  return tree
    .frontier()
    .map((node) => node.toString('hex'))
    .join();
}

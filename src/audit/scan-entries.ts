// The entries half of a scan: each segment's lines in order, checking every entry's form and leaf hash,
// the index sequence, non-decreasing times and (after the latest checkpoint) its MAC, growing the
// RFC 9162 tree, whose root is compared with every checkpoint of that size (./scan-roots.ts).
import { join } from 'node:path';
import { type EntryMac, FIRST_PREVIOUS } from './entry-mac.ts';
import { type DecodedEntry, decodeEntryAt, type Position, tornTailOffset } from './format.ts';
import { CompactTree, leafHash } from './merkle.ts';
import type { LocatedCheckpoint, ProblemList, TornTail } from './scan-problems.ts';
import { CheckpointRoots } from './scan-roots.ts';
import { AuditDirError, type Segment, SegmentReader } from './segments.ts';

export interface EntryScanOptions {
  onEntry?: ((entry: DecodedEntry, position: Position) => void) | undefined;
  mac?: EntryMac | undefined;
}

/** Where a scan begins when it does not begin at entry 0: a signed frontier's tree and the entry before it. */
export interface ScanStart {
  tree: CompactTree;
  lastLeaf: Buffer;
  lastTime: string | undefined;
}

export class EntryScan {
  readonly tree: CompactTree;
  lastTime: string | undefined;
  /** the leaf hash of the last entry read: the next entry's MAC is chained to it */
  lastLeaf: Buffer = FIRST_PREVIOUS;
  lastSegment: { name: string; first: number; bytes: number } | undefined;
  torn: TornTail | undefined;
  /** whether an entry of this log was seen chained: entries sealed the earlier way cannot follow it */
  private chained = false;
  /** the index the next entry must carry */
  private expected = 0;
  /** the log's checkpoints, compared with the tree as it reaches each one's size */
  private readonly roots: CheckpointRoots;
  /** the latest checkpoint's signature covers every entry before it; the MAC key authenticates the rest */
  private readonly macFrom: number;
  private readonly problems: ProblemList;
  private readonly options: EntryScanOptions;

  /** `checkpoints` in the file's order; `macFrom`: the latest checkpoint's size; `start`: a tree to go on from */
  constructor(
    checkpoints: Iterator<LocatedCheckpoint>,
    macFrom: number,
    problems: ProblemList,
    options: EntryScanOptions,
    start?: ScanStart,
  ) {
    this.tree = start?.tree ?? new CompactTree();
    this.expected = this.tree.size;
    if (start) {
      this.lastLeaf = start.lastLeaf;
      this.lastTime = start.lastTime;
      // a frontier is written by a writer that chains every entry: none sealed the earlier way may follow it
      this.chained = true;
    }
    this.problems = problems;
    this.options = options;
    this.roots = new CheckpointRoots(checkpoints, problems);
    this.macFrom = macFrom;
    this.roots.check(this.tree, this.lastTime); // checkpoints of the empty tree
  }

  private checkEntry(decoded: DecodedEntry, position: Position): void {
    const { i, t } = decoded.entry;
    if (i !== this.expected) {
      this.problems.entry(
        'entry',
        position,
        `entry carries index ${i} where ${this.expected} was expected (entries removed, inserted or reordered)`,
      );
      this.expected = i;
    }
    if (this.lastTime !== undefined && t < this.lastTime)
      this.problems.entry('entry', position, `time ${t} is earlier than the previous entry's ${this.lastTime}`);
    this.lastTime = t;
    const { mac } = this.options;
    // the entry before the tail is covered by the checkpoint; its sealing only says whether the log chains
    if (mac && this.expected >= this.macFrom - 1) {
      const sealing = mac.sealing(decoded.body, this.lastLeaf);
      if (this.expected >= this.macFrom && (!sealing || (sealing === 'bare' && this.chained)))
        this.problems.entry(
          'entry',
          position,
          sealing
            ? 'entry sealed the way entries were before MAC chaining, after chained entries (copied from an older log)'
            : 'entry MAC does not verify (entry forged, altered or copied from another log by someone without the MAC key)',
        );
      if (sealing === 'chained') this.chained = true;
    }
    this.options.onEntry?.(decoded, position);
  }

  /** Names `segment` unless it begins where the entries read so far end. */
  startsHere(segment: Segment): void {
    if (segment.first !== this.tree.size)
      this.problems.entry(
        'segment',
        { file: segment.name, line: 1, offset: 0, index: this.tree.size },
        `segment starts at entry ${segment.first} but the previous segments end before entry ${this.tree.size} (segment removed, renamed or inserted)`,
      );
  }

  /** Every segment of `segments` in order, read from `dir`; the last of them may end in a torn tail when
   * `lastOfLog` (it is the log's last). */
  segments(dir: string, segments: readonly Segment[], lastOfLog: boolean): void {
    const reader = new SegmentReader();
    for (const [i, segment] of segments.entries()) {
      let buf: Buffer;
      try {
        buf = reader.read(join(dir, segment.name));
      } catch (err) {
        // a FIFO, a device, a directory or an impossible size named like a segment is a problem of this log
        // (named, with the rest still checked), not a reason to stop
        if (!(err instanceof AuditDirError)) throw err;
        this.problems.entry('segment', { file: segment.name, line: 1, offset: 0, index: this.tree.size }, err.message);
        continue;
      }
      this.segment(segment, buf, lastOfLog && i === segments.length - 1);
    }
  }

  /** Every line of one segment file; `last` says whether a torn tail may end it. */
  segment(segment: Segment, buf: Buffer, last: boolean): void {
    const { name } = segment;
    this.startsHere(segment);
    let line = 0;
    let zeroed = false;
    for (let start = 0, end = buf.indexOf(0x0a); end !== -1; start = end + 1, end = buf.indexOf(0x0a, start)) {
      line++;
      const position: Position = { file: name, line, offset: start, index: this.expected };
      let decoded: DecodedEntry | undefined;
      try {
        decoded = decodeEntryAt(buf, start, end);
      } catch (err) {
        zeroed = last && this.zeroedTail(name, buf, start, end, line);
        if (zeroed) break;
        this.problems.entry('entry', position, (err as Error).message);
      }
      if (decoded) this.checkEntry(decoded, position);
      const leaf = decoded ? decoded.leaf : leafHash(buf.subarray(start, end));
      this.tree.push(leaf);
      this.lastLeaf = leaf;
      this.expected++;
      this.roots.check(this.tree, this.lastTime);
    }
    if (!zeroed) this.checkTornTail(name, buf, line + 1, last);
    this.lastSegment = { name, first: segment.first, bytes: buf.length };
  }

  /** Whether the line buf[start, end), no entry, of the last segment begins its torn tail: it holds zeroed bytes
   * (NUL, as a power cut leaves pages of a write that extended the file before its data landed: ext4
   * data=writeback, XFS) and no checkpoint covers an entry from it on. A checkpoint is signed only over durable
   * entries, so NULs under one are damage or tampering; past the latest, calling them torn gives an attacker
   * nothing (whoever can write the disk can cut those entries off anyway). The tail runs to the end of the
   * file: lines of pages that did land after the zeroed ones belong to the same write, never acknowledged. */
  private zeroedTail(file: string, buf: Buffer, start: number, end: number, line: number): boolean {
    if (this.tree.size < this.macFrom || buf.subarray(start, end).indexOf(0) === -1) return false;
    this.torn = { file, offset: start, length: buf.length - start, line };
    this.problems.entry(
      'torn',
      { file, line, offset: start, index: this.expected },
      `${this.torn.length} bytes from a line of zeroed bytes (NUL) on, after the latest checkpoint: a write a power cut interrupted`,
    );
    return true;
  }

  private checkTornTail(file: string, buf: Buffer, line: number, last: boolean): void {
    const offset = tornTailOffset(buf);
    if (offset === undefined) return;
    const position = { file, line, offset, index: this.expected };
    if (!last) {
      this.problems.entry('entry', position, 'segment ends inside an entry (bytes removed, or a newline deleted)');
      return;
    }
    this.torn = { file, offset, length: buf.length - offset, line };
    this.problems.entry(
      'torn',
      position,
      `${this.torn.length} bytes of an incomplete entry after the last complete line`,
    );
  }

  /** Checkpoints that cover more entries than the log holds (all that are left once the entries are read). */
  checkCoverage(): void {
    this.roots.coverage(this.tree.size);
  }
}

// RFC 9162 section 2.1.3.1 and 2.1.4.1: inclusion and consistency proofs (audit prove, audit consistency),
// built in one pass over a log's leaf hashes as they stream past. A proof is the roots of a few disjoint
// subtrees, at most two per level; which ones follows from the tree sizes alone, so they are found first
// (the RFC's recursions, walking index ranges instead of hashing), then each is hashed from its leaves as
// they pass, on a stack of perfect-subtree roots (CompactTree). Memory is O(log n) whatever the log's
// length: holding every leaf hash (32 bytes) of a year's log, hundreds of millions of entries, took gigabytes.
import { CompactTree, largestPowerOfTwoBelow, ProofError } from './merkle.ts';

/** MTH(D[start:end]) is one element of a proof */
type Range = readonly [start: number, end: number];

function checkTreeSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1) throw new ProofError(`tree size ${size} is not a positive integer`);
}

/** The subtrees of RFC 9162 2.1.3.1 PATH(m, D[0:size]), in the proof's order. The RFC recurses into the
 * half holding leaf m (split at the largest power of two below the size) and appends the other half's root
 * on the way back up: going down, each other half is put in front of those found above it. */
function inclusionRanges(index: number, size: number): Range[] {
  const ranges: Range[] = [];
  let [m, start, end] = [index, 0, size];
  while (end - start > 1) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m < k) {
      ranges.unshift([start + k, end]);
      end = start + k;
    } else {
      ranges.unshift([start, start + k]);
      [m, start] = [m - k, start + k];
    }
  }
  return ranges;
}

/** The subtrees of RFC 9162 2.1.4.1 PROOF(m, D[0:n]) (SUBPROOF(m, D[0:n], true)), in the proof's order: as
 * for a path, down the half holding the first tree's end; where the first tree is a whole subtree, that
 * subtree's root comes first, unless it is the first tree itself (its root the verifier holds). */
function consistencyRanges(first: number, second: number): Range[] {
  const ranges: Range[] = [];
  let [m, start, end, whole] = [first, 0, second, true];
  while (m !== end - start) {
    const k = largestPowerOfTwoBelow(end - start);
    if (m <= k) {
      ranges.unshift([start + k, end]);
      end = start + k;
    } else {
      ranges.unshift([start, start + k]);
      [m, start, whole] = [m - k, start + k, false];
    }
  }
  if (!whole) ranges.unshift([start, end]);
  return ranges;
}

/** One proof, built from the leaf hashes pushed in order from leaf 0 (more than the tree's are ignored). */
export class StreamedProof {
  private readonly ranges: readonly Range[];
  /** the ranges' places in the proof, in leaf order (they are disjoint) */
  private readonly order: number[];
  private readonly hashes: Buffer[] = [];
  private next = 0;
  private subtree: CompactTree | undefined;
  private leaves = 0;

  /** the size of the tree the proof is in */
  readonly size: number;

  constructor(size: number, ranges: Range[]) {
    this.size = size;
    this.ranges = ranges;
    this.order = ranges.map((_, i) => i).sort((a, b) => ranges[a]![0] - ranges[b]![0]);
  }

  push(leaf: Buffer): void {
    const place = this.order[this.next];
    const index = this.leaves++;
    if (place === undefined) return;
    const [start, end] = this.ranges[place]!;
    if (index < start) return;
    this.subtree ??= new CompactTree();
    this.subtree.push(leaf);
    if (index < end - 1) return;
    this.hashes[place] = this.subtree.root();
    this.subtree = undefined;
    this.next++;
  }

  /** Goes on from a tree whose first `size` leaves were retired, known by `frontier` (the roots of its perfect
   * subtrees, largest first): pushing resumes at leaf `size`. A subtree of the proof that begins before `size`
   * must begin where one of those roots does (it is then folded from them, and grown on from later leaves when
   * it ends after `size`), else ProofError: it needs retired leaves. */
  startAt(size: number, frontier: readonly Buffer[]): void {
    const pieces: { start: number; end: number; root: Buffer }[] = [];
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))), start = 0; bit >= 1; bit /= 2)
      if (Math.floor(size / bit) % 2 === 1) {
        pieces.push({ start, end: start + bit, root: frontier[pieces.length]! });
        start += bit;
      }
    for (let place = this.order[this.next]; place !== undefined; place = this.order[this.next]) {
      const [from, end] = this.ranges[place]!;
      if (from >= size) break;
      const upTo = Math.min(end, size);
      const inside = pieces.filter((piece) => piece.start >= from && piece.end <= upTo);
      if (inside[0]?.start !== from || inside.at(-1)!.end !== upTo)
        throw new ProofError(`the proof needs entries before ${size}, which were retired (the log begins there)`);
      const tree = CompactTree.fromFrontier(
        upTo - from,
        inside.map((piece) => piece.root),
      );
      if (end > size) {
        this.subtree = tree;
        break;
      }
      this.hashes[place] = tree.root();
      this.next++;
    }
    this.leaves = size;
  }

  /** The proof, once the leaves of its tree have all been pushed. */
  proof(): Buffer[] {
    if (this.leaves < this.size) throw new ProofError(`tree size ${this.size} is not between 1 and ${this.leaves}`);
    return this.ranges.map((_, i) => this.hashes[i]!);
  }
}

/** RFC 9162 2.1.3.1 PATH(index, D[0:size]), to be built from the leaves (StreamedProof.push). */
export function inclusionProof(index: number, size: number): StreamedProof {
  checkTreeSize(size);
  if (!Number.isInteger(index) || index < 0 || index >= size)
    throw new ProofError(`leaf index ${index} is not inside a tree of ${size} entries`);
  return new StreamedProof(size, inclusionRanges(index, size));
}

/** RFC 9162 2.1.4.1 PROOF(first, D[0:second]), to be built from the leaves (StreamedProof.push). */
export function consistencyProof(first: number, second: number): StreamedProof {
  checkTreeSize(second);
  if (!Number.isInteger(first) || first < 1 || first > second)
    throw new ProofError(`first tree size ${first} must be between 1 and the second size ${second}`);
  return new StreamedProof(second, consistencyRanges(first, second));
}

// RFC 9162 section 2.1.3.1 and 2.1.4.1: inclusion and consistency proofs (audit prove, audit consistency),
// built in one pass over a log's leaf hashes as they stream past. A proof is the roots of a few disjoint
// subtrees, at most two per level; which ones follows from the tree sizes alone, so they are found first
// (the RFC's recursions, walking index ranges instead of hashing), then each is hashed from its leaves as
// they pass, on a stack of perfect-subtree roots (CompactTree). Memory is O(log n) whatever the log's
// length: holding every leaf hash (32 bytes) of a year's log, hundreds of millions of entries, took gigabytes.
import { CompactTree, EMPTY_ROOT, HASH_SIZE, largestPowerOfTwoBelow, nodeHash, ProofError } from './merkle.ts';

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

/** Leaf hashes of a whole log, kept in one buffer (32 bytes each): what proofs were built from before they
 * were streamed (32 bytes an entry, gigabytes for a year's log); kept while the scanner can still collect them. */
export class LeafHashes {
  private hashes: Buffer;
  private count = 0;

  constructor(capacity = 1024) {
    this.hashes = Buffer.allocUnsafe(Math.max(1, capacity) * HASH_SIZE);
  }

  get size(): number {
    return this.count;
  }

  push(leaf: Buffer): void {
    if ((this.count + 1) * HASH_SIZE > this.hashes.length) {
      const bigger = Buffer.allocUnsafe(this.hashes.length * 2);
      this.hashes.copy(bigger, 0, 0, this.count * HASH_SIZE);
      this.hashes = bigger;
    }
    leaf.copy(this.hashes, this.count * HASH_SIZE);
    this.count++;
  }

  get(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) throw new RangeError(`leaf ${i} out of range`);
    return this.hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }

  /** MTH(D[start:end]) */
  root(start = 0, end = this.count): Buffer {
    const size = end - start;
    if (size === 0) return EMPTY_ROOT;
    if (size === 1) return Buffer.from(this.get(start));
    const k = largestPowerOfTwoBelow(size);
    return nodeHash(this.root(start, start + k), this.root(start + k, end));
  }

  /** RFC 9162 2.1.3.1 PATH(m, D[0:size]) */
  inclusionProof(index: number, size: number): Buffer[] {
    checkSize(size, this.count);
    if (!Number.isInteger(index) || index < 0 || index >= size)
      throw new ProofError(`leaf index ${index} is not inside a tree of ${size} entries`);
    const path: Buffer[] = [];
    const walk = (m: number, start: number, end: number): void => {
      const n = end - start;
      if (n <= 1) return;
      const k = largestPowerOfTwoBelow(n);
      if (m < k) {
        walk(m, start, start + k);
        path.push(this.root(start + k, end));
      } else {
        walk(m - k, start + k, end);
        path.push(this.root(start, start + k));
      }
    };
    walk(index, 0, size);
    return path;
  }

  /** RFC 9162 2.1.4.1 PROOF(m, D[0:n]) */
  consistencyProof(first: number, second: number): Buffer[] {
    checkSize(second, this.count);
    if (!Number.isInteger(first) || first < 1 || first > second)
      throw new ProofError(`first tree size ${first} must be between 1 and the second size ${second}`);
    const proof: Buffer[] = [];
    const sub = (m: number, start: number, end: number, complete: boolean): void => {
      const n = end - start;
      if (m === n) {
        if (!complete) proof.push(this.root(start, end));
        return;
      }
      const k = largestPowerOfTwoBelow(n);
      if (m <= k) {
        sub(m, start, start + k, complete);
        proof.push(this.root(start + k, end));
      } else {
        sub(m - k, start + k, end, false);
        proof.push(this.root(start, start + k));
      }
    };
    sub(first, 0, second, true);
    return proof;
  }
}

function checkSize(size: number, available: number): void {
  if (!Number.isInteger(size) || size < 1 || size > available)
    throw new ProofError(`tree size ${size} is not between 1 and ${available}`);
}

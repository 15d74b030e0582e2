// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, section 2.1: SHA-256 with a 0x00 prefix
// for leaves and 0x01 for interior nodes, inclusion and consistency proofs and their verification.
// No library in our dependency set implements these, and the algorithms are a page of code; they are
// written to follow the RFC text step by step so they can be checked against it.
import { hash } from 'node:crypto';

export const HASH_SIZE = 32;
const LEAF_PREFIX = Buffer.from([0x00]);

export class ProofError extends Error {
  override name = 'ProofError';
}

// Scratch buffers: verification hashes millions of small inputs, and hash() copies its input
// synchronously, so reusing one buffer saves an allocation per hash.
const leafScratch = Buffer.alloc(64 * 1024);
const nodeScratch = Buffer.alloc(1 + 2 * HASH_SIZE);

export function leafHash(entry: Uint8Array): Buffer {
  if (entry.length >= leafScratch.length) return hash('sha256', Buffer.concat([LEAF_PREFIX, entry]), 'buffer');
  leafScratch[0] = 0x00;
  leafScratch.set(entry, 1);
  return hash('sha256', leafScratch.subarray(0, entry.length + 1), 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  nodeScratch[0] = 0x01;
  nodeScratch.set(left, 1);
  nodeScratch.set(right, 1 + HASH_SIZE);
  return hash('sha256', nodeScratch, 'buffer');
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Buffer = hash('sha256', Buffer.alloc(0), 'buffer');

/**
 * The "compact range" of a growing tree: the roots of its perfect subtrees, largest first. Appending
 * costs one leaf hash plus, amortised, one node hash; the root folds the subtrees from the right,
 * which is exactly MTH of RFC 9162 (split at the largest power of two below n).
 */
export class CompactTree {
  private readonly nodes: Buffer[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Append a leaf given its leaf hash (see leafHash). */
  push(leaf: Buffer): void {
    this.nodes.push(leaf);
    let n = this.count;
    while (n % 2 === 1) {
      const right = this.nodes.pop()!;
      const left = this.nodes.pop()!;
      this.nodes.push(nodeHash(left, right));
      n = Math.floor(n / 2);
    }
    this.count++;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_ROOT;
    let r = this.nodes[this.nodes.length - 1]!;
    for (let i = this.nodes.length - 2; i >= 0; i--) r = nodeHash(this.nodes[i]!, r);
    return r;
  }
}

/** Leaf hashes of a whole log, kept in one buffer (32 bytes each) for proof generation. */
export class LeafHashes {
  private buf: Buffer;
  private n = 0;

  constructor(capacity = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(1, capacity) * HASH_SIZE);
  }

  get size(): number {
    return this.n;
  }

  push(leaf: Buffer): void {
    if ((this.n + 1) * HASH_SIZE > this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.n * HASH_SIZE);
      this.buf = bigger;
    }
    leaf.copy(this.buf, this.n * HASH_SIZE);
    this.n++;
  }

  get(i: number): Buffer {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`leaf ${i} out of range`);
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }

  /** MTH(D[start:end]) */
  root(start = 0, end = this.n): Buffer {
    const size = end - start;
    if (size === 0) return EMPTY_ROOT;
    if (size === 1) return Buffer.from(this.get(start));
    const k = largestPowerOfTwoBelow(size);
    return nodeHash(this.root(start, start + k), this.root(start + k, end));
  }

  /** RFC 9162 2.1.3.1 PATH(m, D[0:size]) */
  inclusionProof(index: number, size: number): Buffer[] {
    checkSize(size, this.n);
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
    checkSize(second, this.n);
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

/** Largest power of two strictly below n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isOdd = (n: number) => n % 2 === 1;
const isPowerOfTwo = (n: number) => {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
};
const half = (n: number) => Math.floor(n / 2);

function checkHash(name: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw new ProofError(`${name} is not a SHA-256 hash`);
}

/** RFC 9162 2.1.3.2. Throws ProofError explaining why the proof does not hold. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHash('leaf hash', leaf);
  checkHash('root', root);
  path.forEach((p, i) => checkHash(`proof element ${i}`, p));
  if (!Number.isSafeInteger(size) || size < 1) throw new ProofError(`tree size ${size} is invalid`);
  if (!Number.isSafeInteger(index) || index < 0) throw new ProofError(`leaf index ${index} is invalid`);
  if (index >= size) throw new ProofError(`leaf index ${index} is not inside a tree of ${size} entries`);
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of path) {
    if (sn === 0) throw new ProofError('inclusion proof is too long');
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('inclusion proof is too short');
  if (!Buffer.from(r).equals(Buffer.from(root)))
    throw new ProofError('inclusion proof does not lead to the root (wrong entry, index or proof)');
}

/** RFC 9162 2.1.4.2. Throws ProofError explaining why the proof does not hold. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  checkHash('first root', firstRoot);
  checkHash('second root', secondRoot);
  proof.forEach((p, i) => checkHash(`proof element ${i}`, p));
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || second < 1)
    throw new ProofError('tree sizes must be positive integers');
  if (first > second) throw new ProofError(`first tree size ${first} is larger than the second ${second}`);
  if (first === second) {
    if (proof.length !== 0) throw new ProofError('consistency proof between equal sizes must be empty');
    if (!Buffer.from(firstRoot).equals(Buffer.from(secondRoot)))
      throw new ProofError('equal tree sizes with different roots');
    return;
  }
  if (proof.length === 0) throw new ProofError('consistency proof is empty');
  const path: Uint8Array[] = [...proof];
  // first an exact power of two: the old root is itself a node of the new tree
  if (isPowerOfTwo(first)) path.unshift(firstRoot);
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Uint8Array = path[0]!;
  let sr: Uint8Array = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new ProofError('consistency proof is too long');
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError('consistency proof is too short');
  if (!Buffer.from(fr).equals(Buffer.from(firstRoot)))
    throw new ProofError('consistency proof does not lead to the first root');
  if (!Buffer.from(sr).equals(Buffer.from(secondRoot)))
    throw new ProofError('consistency proof does not lead to the second root');
}

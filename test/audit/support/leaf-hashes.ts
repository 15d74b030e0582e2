// RFC 9162 section 2.1.3.1 and 2.1.4.1: inclusion and consistency proofs built from every leaf hash of a
// tree held at once, by the RFC's recursive definitions. `audit prove` and `audit consistency` built their
// proofs this way until a year's log (hundreds of millions of leaves) made that gigabytes; the tests keep it
// as the oracle the streamed proofs (src/audit/merkle-proofs.ts) must equal byte for byte.
import { EMPTY_ROOT, HASH_SIZE, largestPowerOfTwoBelow, nodeHash, ProofError } from '../../../src/audit/merkle.ts';

/** Leaf hashes of a whole tree, kept in one buffer (32 bytes each). */
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

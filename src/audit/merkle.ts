// RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, section 2.1: SHA-256 with a 0x00 prefix
// for leaves and 0x01 for interior nodes, inclusion and consistency proofs and their verification.
// The hashes and the growing tree are here; proofs are built in merkle-proofs.ts and checked in
// merkle-verify.ts, each written to follow the RFC text step by step so it can be checked against it.
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

  /** The tree of `size` leaves whose perfect subtrees' roots are `frontier` (largest first): grows on exactly
   * as the tree of those leaves would. The caller checks that `frontier` has one root per set bit of `size`. */
  static fromFrontier(size: number, frontier: readonly Buffer[]): CompactTree {
    const tree = new CompactTree();
    tree.nodes.push(...frontier);
    tree.count = size;
    return tree;
  }

  /** the roots of the perfect subtrees, largest first (a checkpoint at a segment's start carries them) */
  frontier(): Buffer[] {
    return [...this.nodes];
  }

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

/** Largest power of two strictly below n (n >= 2). */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

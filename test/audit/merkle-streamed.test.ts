// Proofs built in one pass over the leaves (src/audit/merkle-proofs.ts, what `audit prove` and `audit
// consistency` print) equal, byte for byte, those built from every leaf hash held at once by the RFC's
// recursive definitions (LeafHashes, how they were built before): for every tree up to 70 leaves and
// sizes up to a few thousand chosen at random (seeded, so a failure repeats).
import { leafHash, ProofError } from '../../src/audit/merkle.ts';
import { consistencyProof, inclusionProof, type StreamedProof } from '../../src/audit/merkle-proofs.ts';
import { LeafHashes } from './support/leaf-hashes.ts';

function leavesOf(n: number): LeafHashes {
  const leaves = new LeafHashes();
  for (let i = 0; i < n; i++) leaves.push(leafHash(Buffer.from(`entry ${i}`)));
  return leaves;
}

/** `proof` after the leaves of `leaves` have streamed past it */
function streamed(proof: StreamedProof, leaves: LeafHashes): Buffer[] {
  for (let i = 0; i < leaves.size; i++) proof.push(leaves.get(i));
  return proof.proof();
}

const hex = (path: Buffer[]) => path.map((h) => h.toString('hex'));

/** A small seeded generator (mulberry32): the same sizes on every run. */
function random(seed: number): (below: number) => number {
  let a = seed;
  return (below) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

const small = leavesOf(70);

test('inclusion proofs of every leaf of every tree up to 70 equal the recursive ones', () => {
  for (let n = 1; n <= 70; n++)
    for (let m = 0; m < n; m++)
      expect(hex(streamed(inclusionProof(m, n), small))).toEqual(hex(small.inclusionProof(m, n)));
});

test('consistency proofs between every two sizes up to 70 equal the recursive ones', () => {
  for (let n = 1; n <= 70; n++)
    for (let m = 1; m <= n; m++)
      expect(hex(streamed(consistencyProof(m, n), small))).toEqual(hex(small.consistencyProof(m, n)));
});

test('proofs in trees of random sizes up to 5,000 equal the recursive ones', () => {
  const leaves = leavesOf(5000);
  const below = random(9162);
  for (let round = 0; round < 200; round++) {
    const n = 1 + below(5000);
    const m = below(n);
    expect(hex(streamed(inclusionProof(m, n), leaves))).toEqual(hex(leaves.inclusionProof(m, n)));
    expect(hex(streamed(consistencyProof(m + 1, n), leaves))).toEqual(hex(leaves.consistencyProof(m + 1, n)));
  }
});

test('a proof is refused before the leaves of its tree have all passed, and outside the tree', () => {
  const proof = inclusionProof(3, 10);
  for (let i = 0; i < 9; i++) proof.push(small.get(i));
  expect(() => proof.proof()).toThrow(ProofError);
  proof.push(small.get(9));
  expect(hex(proof.proof())).toEqual(hex(small.inclusionProof(3, 10)));
  expect(() => inclusionProof(10, 10)).toThrow(ProofError);
  expect(() => inclusionProof(0, 0)).toThrow(ProofError);
  expect(() => consistencyProof(0, 10)).toThrow(ProofError);
  expect(() => consistencyProof(11, 10)).toThrow(ProofError);
});

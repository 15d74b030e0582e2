// Proofs in a log whose first leaves were retired (src/audit/merkle-proofs.ts StreamedProof.startAt): built from
// the frontier signed at the retirement boundary and the leaves after it, they equal byte for byte those of the
// RFC's recursive definitions over every leaf; a proof that needs a retired leaf is refused, never made up.
import { CompactTree, leafHash, ProofError } from '../../src/audit/merkle.ts';
import { consistencyProof, inclusionProof, type StreamedProof } from '../../src/audit/merkle-proofs.ts';
import { LeafHashes } from './support/leaf-hashes.ts';

const leaves = new LeafHashes();
for (let i = 0; i < 70; i++) leaves.push(leafHash(Buffer.from(`entry ${i}`)));

/** `proof` resumed after the first `before` leaves, then given the rest; undefined when it is refused. */
function afterRetirement(proof: StreamedProof, before: number, n: number): string[] | undefined {
  const tree = new CompactTree();
  for (let i = 0; i < before; i++) tree.push(leaves.get(i));
  try {
    proof.startAt(before, tree.frontier());
  } catch (err) {
    if (err instanceof ProofError) return undefined;
    throw err;
  }
  for (let i = before; i < n; i++) proof.push(leaves.get(i));
  return proof.proof().map((h) => h.toString('hex'));
}

const hex = (path: Buffer[]) => path.map((h) => h.toString('hex'));

test('an inclusion proof of every leaf kept, in every tree up to 40, after every retirement, equals the recursive one', () => {
  for (let n = 2; n <= 40; n++)
    for (let before = 1; before < n; before++)
      for (let m = before; m < n; m++)
        expect(afterRetirement(inclusionProof(m, n), before, n)).toEqual(hex(leaves.inclusionProof(m, n)));
});

test('a consistency proof is the recursive one whenever it can be made from the frontier, and refused otherwise', () => {
  let refused = 0;
  for (let n = 2; n <= 40; n++)
    for (let before = 1; before < n; before++)
      for (let m = 1; m <= n; m++) {
        const proof = afterRetirement(consistencyProof(m, n), before, n);
        if (proof === undefined) refused++;
        else expect(proof).toEqual(hex(leaves.consistencyProof(m, n)));
        // from the retirement boundary on, every proof can be made
        if (m >= before) expect(proof).toBeDefined();
      }
  expect(refused).toBeGreaterThan(0);
});

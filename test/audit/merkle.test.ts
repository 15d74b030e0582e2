// RFC 9162 tree hashing and proofs, against the Certificate Transparency test vectors and against the
// RFC's recursive definitions for every small tree; bad proofs must be refused.
import { CompactTree, EMPTY_ROOT, leafHash, ProofError } from '../../src/audit/merkle.ts';
import { LeafHashes } from './support/leaf-hashes.ts';
import { verifyConsistency, verifyInclusion } from '../../src/audit/merkle-verify.ts';

const hex = (b: Buffer) => b.toString('hex');
const unhex = (s: string) => Buffer.from(s, 'hex');

// The 8-leaf tree of the Certificate Transparency reference test suite.
const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

function tree(n: number): { leaves: LeafHashes; compact: CompactTree; raw: Buffer[] } {
  const leaves = new LeafHashes(4);
  const compact = new CompactTree();
  const raw: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const entry = i < CT_LEAVES.length ? unhex(CT_LEAVES[i]!) : Buffer.from(`entry ${i}`);
    raw.push(entry);
    leaves.push(leafHash(entry));
    compact.push(leafHash(entry));
  }
  return { leaves, compact, raw };
}

describe('tree hashes', () => {
  test('the empty tree hashes to SHA-256 of nothing', () => {
    expect(hex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new CompactTree().root()).toEqual(EMPTY_ROOT);
  });

  test('roots match the Certificate Transparency test vectors', () => {
    const { compact, leaves } = tree(0);
    CT_LEAVES.forEach((l, i) => {
      compact.push(leafHash(unhex(l)));
      leaves.push(leafHash(unhex(l)));
      expect(hex(compact.root())).toBe(CT_ROOTS[i]);
      expect(hex(leaves.root())).toBe(CT_ROOTS[i]);
    });
  });

  test('the incremental tree equals the recursive definition for every size up to 70', () => {
    const { leaves } = tree(70);
    const compact = new CompactTree();
    for (let n = 1; n <= 70; n++) {
      compact.push(leaves.get(n - 1));
      expect(compact.root()).toEqual(leaves.root(0, n));
    }
  });

  test('a leaf hash differs from a node hash of the same bytes (domain separation)', () => {
    const a = leafHash(Buffer.from('a'));
    const b = leafHash(Buffer.from('b'));
    const { compact } = { compact: new CompactTree() };
    compact.push(a);
    compact.push(b);
    expect(leafHash(Buffer.concat([a, b]))).not.toEqual(compact.root());
  });
});

describe('inclusion proofs', () => {
  test('CT vectors', () => {
    const { leaves } = tree(8);
    expect(leaves.inclusionProof(0, 8).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(leaves.inclusionProof(5, 8).map(hex)).toEqual([
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(leaves.inclusionProof(0, 1)).toEqual([]);
  });

  test('every leaf of every tree up to 33 verifies, and is refused at any other index', () => {
    const { leaves } = tree(33);
    for (let size = 1; size <= 33; size++) {
      const root = leaves.root(0, size);
      for (let i = 0; i < size; i++) {
        const path = leaves.inclusionProof(i, size);
        expect(() => verifyInclusion(leaves.get(i), i, size, path, root)).not.toThrow();
        for (const j of [i - 1, i + 1]) {
          if (j >= 0 && j < size && !leaves.get(j).equals(leaves.get(i)))
            expect(() => verifyInclusion(leaves.get(i), j, size, path, root)).toThrow(ProofError);
        }
      }
    }
  });

  const { leaves } = tree(21);
  const size = 21;
  const index = 13;
  const root = leaves.root(0, size);
  const path = leaves.inclusionProof(index, size);
  const leaf = leaves.get(index);

  test.each([
    ['too short', () => verifyInclusion(leaf, index, size, path.slice(0, -1), root), /too short/],
    ['too long', () => verifyInclusion(leaf, index, size, [...path, path[0]!], root), /too long|root/],
    [
      'too long by zero hashes',
      () => verifyInclusion(leaf, index, size, [...path, Buffer.alloc(32)], root),
      /too long|root/,
    ],
    ['wrong index', () => verifyInclusion(leaf, index + 1, size, path, root), /root/],
    ['index beyond the tree', () => verifyInclusion(leaf, size, size, path, root), /not inside/],
    ['negative index', () => verifyInclusion(leaf, -1, size, path, root), /invalid/],
    [
      'altered path element',
      () => verifyInclusion(leaf, index, size, [leafHash(Buffer.from('x')), ...path.slice(1)], root),
      /root/,
    ],
    ['wrong leaf', () => verifyInclusion(leaves.get(0), index, size, path, root), /root/],
    [
      'truncated hash',
      () => verifyInclusion(leaf, index, size, [path[0]!.subarray(0, 31), ...path.slice(1)], root),
      /not a SHA-256/,
    ],
  ])('refused: %s', (_name, run, message) => {
    expect(run).toThrow(ProofError);
    expect(run).toThrow(message);
  });

  test('generating a proof outside the tree is refused', () => {
    expect(() => leaves.inclusionProof(21, 21)).toThrow(ProofError);
    expect(() => leaves.inclusionProof(0, 22)).toThrow(ProofError);
  });
});

describe('consistency proofs', () => {
  test('CT vectors', () => {
    const { leaves } = tree(8);
    expect(leaves.consistencyProof(1, 8).map(hex)).toEqual([
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]);
    expect(leaves.consistencyProof(6, 8).map(hex)).toEqual([
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]);
    expect(leaves.consistencyProof(2, 5).map(hex)).toEqual([
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]);
  });

  test('every pair of sizes up to 33 verifies', () => {
    const { leaves } = tree(33);
    for (let n = 1; n <= 33; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = leaves.consistencyProof(m, n);
        expect(() => verifyConsistency(m, n, leaves.root(0, m), leaves.root(0, n), proof)).not.toThrow();
      }
    }
  });

  const { leaves } = tree(21);
  const [m, n] = [6, 21];
  const r1 = leaves.root(0, m);
  const r2 = leaves.root(0, n);
  const proof = leaves.consistencyProof(m, n);
  const forked = tree(21).leaves;
  forked.push(leafHash(Buffer.from('other')));

  test.each([
    ['too short', () => verifyConsistency(m, n, r1, r2, proof.slice(0, -1)), /too short|root/],
    ['too long', () => verifyConsistency(m, n, r1, r2, [...proof, proof[0]!]), /too long|root/],
    ['empty', () => verifyConsistency(m, n, r1, r2, []), /empty/],
    ['first > second', () => verifyConsistency(n, m, r2, r1, proof), /larger/],
    ['first size zero', () => verifyConsistency(0, n, r1, r2, proof), /positive/],
    ['equal sizes with a proof', () => verifyConsistency(n, n, r2, r2, proof), /empty/],
    ['equal sizes, different roots', () => verifyConsistency(n, n, r1, r2, []), /different roots/],
    ['wrong first size', () => verifyConsistency(m + 1, n, r1, r2, proof), /root|short|long/],
    ['wrong second root', () => verifyConsistency(m, n, r1, leaves.root(0, n - 1), proof), /second root/],
    ['altered element', () => verifyConsistency(m, n, r1, r2, [leafHash(Buffer.from('x')), ...proof.slice(1)]), /root/],
  ])('refused: %s', (_name, run, message) => {
    expect(run).toThrow(ProofError);
    expect(run).toThrow(message);
  });

  test('a log that rewrote history is not consistent with its old root', () => {
    const rewritten = new LeafHashes();
    for (let i = 0; i < 21; i++) rewritten.push(i === 3 ? leafHash(Buffer.from('rewritten')) : leaves.get(i));
    expect(() => verifyConsistency(m, n, r1, rewritten.root(), rewritten.consistencyProof(m, n))).toThrow(ProofError);
  });
});

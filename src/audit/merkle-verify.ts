// RFC 9162 section 2.1.3.2 and 2.1.4.2: checking an inclusion or a consistency proof against signed roots.
// Each step follows the RFC's algorithm, with its variable names (fn, sn, fr, sr).
import { HASH_SIZE, nodeHash, ProofError } from './merkle.ts';

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

function checkProofHashes(proof: readonly Uint8Array[]): void {
  for (const [i, element] of proof.entries()) checkHash(`proof element ${i}`, element);
}

/** The RFC's "right-shift fn and sn equally until either LSB(fn) is set or fn is 0". */
function shiftToOdd(fn: number, sn: number): [number, number] {
  while (!isOdd(fn) && fn !== 0) {
    fn = half(fn);
    sn = half(sn);
  }
  return [fn, sn];
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
  checkProofHashes(path);
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
      [fn, sn] = shiftToOdd(fn, sn);
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
  checkProofHashes(proof);
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
      [fn, sn] = shiftToOdd(fn, sn);
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

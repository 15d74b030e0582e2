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

/**
 * The walk up the tree both algorithms share: for each proof element, whether it is a left sibling
 * (LSB(fn) set, or fn equal to sn) or a right one, handed to `hash`; then fn and sn move up a level.
 * A proof must end exactly at the root (sn 0).
 */
function walkProof(
  fn: number,
  sn: number,
  proof: readonly Uint8Array[],
  what: string,
  hash: (element: Uint8Array, leftSibling: boolean) => void,
): void {
  for (const element of proof) {
    if (sn === 0) throw new ProofError(`${what} proof is too long`);
    const leftSibling = isOdd(fn) || fn === sn;
    hash(element, leftSibling);
    if (leftSibling) [fn, sn] = shiftToOdd(fn, sn);
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new ProofError(`${what} proof is too short`);
}

const sameHash = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

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
  let r: Uint8Array = leaf;
  walkProof(index, size - 1, path, 'inclusion', (p, leftSibling) => {
    r = leftSibling ? nodeHash(p, r) : nodeHash(r, p);
  });
  if (!sameHash(r, root))
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
    if (!sameHash(firstRoot, secondRoot)) throw new ProofError('equal tree sizes with different roots');
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
  walkProof(fn, sn, path.slice(1), 'consistency', (c, leftSibling) => {
    if (leftSibling) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
    } else {
      sr = nodeHash(sr, c);
    }
  });
  if (!sameHash(fr, firstRoot)) throw new ProofError('consistency proof does not lead to the first root');
  if (!sameHash(sr, secondRoot)) throw new ProofError('consistency proof does not lead to the second root');
}

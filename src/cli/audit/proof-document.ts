// The proof documents `audit prove` and `audit consistency` print with --json and `audit verify-proof`
// checks: RFC 9162 inclusion and consistency proofs (section 2.1.3, 2.1.4) together with the signed
// checkpoints they lead to, so that anyone holding the checkpoint public key can check them offline.
import { type Checkpoint, decodeCheckpointLine, encodeCheckpointLine } from '../../audit/checkpoint-format.ts';
import { type CheckpointVerifier, verifyCheckpointSignature } from '../../audit/keys.ts';
import { ProofError } from '../../audit/merkle.ts';
import { describeProblem, type ScanOptions, type ScanResult, scanLog } from '../../audit/scan.ts';
import { type AuditContext, pinnedKey } from './context.ts';

export const INCLUSION_FORMAT = 'vpm-audit-inclusion-proof/1';
export const CONSISTENCY_FORMAT = 'vpm-audit-consistency-proof/1';

export interface InclusionProofDoc {
  format: typeof INCLUSION_FORMAT;
  index: number;
  /** the exact entry bytes (the Merkle leaf) */
  entry: string;
  checkpoint: Checkpoint;
  /** the audit path, hex SHA-256 hashes */
  path: string[];
}

export interface ConsistencyProofDoc {
  format: typeof CONSISTENCY_FORMAT;
  first: Checkpoint;
  second: Checkpoint;
  /** the consistency proof, hex SHA-256 hashes */
  path: string[];
}

/** The log scanned, its checkpoints and entries handed to `watch` as they are read (a proof is built from the
 * leaves as they pass); a log that fails verification proves nothing. */
export async function verifiedScan(
  ctx: AuditContext,
  dir: string,
  watch: Pick<ScanOptions, 'onCheckpoints' | 'onEntry'>,
): Promise<ScanResult> {
  const scan = await scanLog(dir, { key: await pinnedKey(ctx), signatures: 'all', ...watch });
  const [problem] = scan.problems;
  if (problem)
    throw new ProofError(`the log fails verification (${describeProblem(problem)}); run "vpm-gateway audit verify"`);
  return scan;
}

/** A checkpoint from a proof document or file: checked for form, then for its signature. */
export async function checkedCheckpoint(value: unknown, key: CheckpointVerifier, what: string): Promise<Checkpoint> {
  if (typeof value !== 'object' || value === null) throw new ProofError(`${what} is missing`);
  try {
    const checkpoint = decodeCheckpointLine(encodeCheckpointLine(value as Checkpoint).trimEnd());
    await verifyCheckpointSignature(checkpoint, key);
    return checkpoint;
  } catch (err) {
    throw new ProofError(`${what}: ${(err as Error).message}`);
  }
}

/** A proof path of a document: hex SHA-256 hashes. */
export function proofHashes(value: unknown, what: string): Buffer[] {
  if (!Array.isArray(value) || value.some((hash) => typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)))
    throw new ProofError(`${what} must be an array of hex SHA-256 hashes`);
  return (value as string[]).map((hash) => Buffer.from(hash, 'hex'));
}

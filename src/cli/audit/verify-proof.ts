// `audit verify-proof FILE`: checks a proof document on its own, against the pinned checkpoint key.
import { leafHash, ProofError } from '../../audit/merkle.ts';
import { verifyConsistency, verifyInclusion } from '../../audit/merkle-verify.ts';
import type { CheckpointVerifier } from '../../audit/keys.ts';
import { EXIT_OK, emit, UsageError } from '../command.ts';
import { type AuditContext, readerCommand, checkpointSummary, pinnedKey, readJsonFile, refused } from './context.ts';
import { CONSISTENCY_FORMAT, checkedCheckpoint, INCLUSION_FORMAT, proofHashes } from './proof-document.ts';

type ProofDocument = Record<string, unknown>;

/** The index the entry itself carries, which must be the one the proof is for. */
function carriedIndex(entry: string): unknown {
  try {
    return (JSON.parse(entry) as { i?: unknown }).i;
  } catch {
    throw new ProofError('proof entry is not valid JSON');
  }
}

async function verifyInclusionDoc(ctx: AuditContext, doc: ProofDocument, key: CheckpointVerifier): Promise<number> {
  const checkpoint = await checkedCheckpoint(doc.checkpoint, key, 'checkpoint');
  if (typeof doc.entry !== 'string') throw new ProofError('proof carries no entry');
  if (!Number.isSafeInteger(doc.index)) throw new ProofError('proof carries no valid index');
  const index = doc.index as number;
  const carried = carriedIndex(doc.entry);
  if (carried !== index)
    throw new ProofError(`proof is for index ${index} but the entry carries index ${String(carried)}`);
  const path = proofHashes(doc.path, 'path');
  verifyInclusion(leafHash(Buffer.from(doc.entry)), index, checkpoint.size, path, Buffer.from(checkpoint.root, 'hex'));
  emit(
    ctx,
    { ok: true, kind: 'inclusion', index, checkpoint },
    `OK: entry ${index} is included in the log at ${checkpointSummary(checkpoint)}, signed by ${key.kid}\n`,
  );
  return EXIT_OK;
}

async function verifyConsistencyDoc(ctx: AuditContext, doc: ProofDocument, key: CheckpointVerifier): Promise<number> {
  const first = await checkedCheckpoint(doc.first, key, 'first checkpoint');
  const second = await checkedCheckpoint(doc.second, key, 'second checkpoint');
  const [firstRoot, secondRoot] = [Buffer.from(first.root, 'hex'), Buffer.from(second.root, 'hex')];
  verifyConsistency(first.size, second.size, firstRoot, secondRoot, proofHashes(doc.path, 'path'));
  emit(
    ctx,
    { ok: true, kind: 'consistency', first, second },
    `OK: ${checkpointSummary(second)} extends ${checkpointSummary(first)}, both signed by ${key.kid}\n`,
  );
  return EXIT_OK;
}

async function verifyProof(ctx: AuditContext): Promise<number> {
  const [file] = ctx.positionals;
  if (!file) throw new UsageError('verify-proof needs exactly one proof FILE');
  const key = await pinnedKey(ctx);
  if (!key) throw new UsageError('verify-proof needs the checkpoint public key: --public-key FILE or --config FILE');
  const doc = readJsonFile(file, 'proof');
  if (typeof doc !== 'object' || doc === null) throw new Error(`cannot read proof ${file}: not an object`);
  const proof = doc as ProofDocument;
  try {
    if (proof.format === INCLUSION_FORMAT) return await verifyInclusionDoc(ctx, proof, key);
    if (proof.format === CONSISTENCY_FORMAT) return await verifyConsistencyDoc(ctx, proof, key);
    throw new ProofError(`${file} is not an audit proof (format ${JSON.stringify(proof.format)})`);
  } catch (err) {
    return refused(ctx, err);
  }
}

export const verifyProofCommand = readerCommand({
  name: 'verify-proof',
  synopsis: 'FILE (--public-key FILE | --config FILE) [options]',
  summary:
    'Checks an inclusion or consistency proof document (from prove or consistency with --json) against\n' +
    'the pinned checkpoint key. Exit 0 when it holds, 1 (refused) when it does not.',
  operand: ['FILE', 'the proof document'],
  options: {},
  maxPositionals: 1,
  run: verifyProof,
});

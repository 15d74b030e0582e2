// `audit prove` and `audit consistency`: RFC 9162 proofs built from a verified log, printed for a
// person or, with --json, as a document `audit verify-proof` checks on its own.
import type { Checkpoint } from '../../audit/checkpoint-format.ts';
import { type CheckpointHistory, findCheckpoint, type LocatedCheckpoint } from '../../audit/scan.ts';
import { leafHash, ProofError } from '../../audit/merkle.ts';
import { RETIRED_FILE } from '../../audit/retired-marker.ts';
import type { Retirement } from '../../audit/scan-retired.ts';
import { consistencyProof, inclusionProof, type StreamedProof } from '../../audit/merkle-proofs.ts';
import { verifyConsistency, verifyInclusion } from '../../audit/merkle-verify.ts';
import type { ParseArgsOptionsConfig } from 'node:util';
import { EXIT_OK, emit, integerOption, type Runner, UsageError, type Values } from '../command.ts';
import { type AuditContext, readerCommand, checkpointSummary, readJsonFile, refused } from './context.ts';
import { chosenLog, LOG_OPTION_HELP } from './log-set.ts';
import {
  CONSISTENCY_FORMAT,
  type ConsistencyProofDoc,
  checkedCheckpoint,
  INCLUSION_FORMAT,
  type InclusionProofDoc,
  verifiedScan,
} from './proof-document.ts';

const numbered = (path: string[]) => path.map((hash, i) => `  ${i}: ${hash}`);

/** `proof`, to be built from the leaves after `retirement` (from its signed frontier); ProofError when it needs
 * retired ones. */
function resumed(proof: StreamedProof, retirement: Retirement | undefined): StreamedProof {
  const frontier = retirement?.checkpoint.frontier;
  if (retirement && frontier)
    proof.startAt(
      retirement.before,
      frontier.map((node) => Buffer.from(node, 'hex')),
    );
  return proof;
}

/** The checkpoint `prove` proves in: the latest, or the one of tree size `size`. */
function provenCheckpoint(log: CheckpointHistory, size: number | undefined): Checkpoint | undefined {
  return size === undefined ? log.checkpoints.at(-1)?.checkpoint : findCheckpoint(log, (c) => c.size === size);
}

/** The checkpoints a scan hands over before the first entry, as a history to look older ones up in. */
const historyOf = (dir: string, recent: LocatedCheckpoint[]): CheckpointHistory => ({
  dir,
  checkpoints: recent,
  checkpointCount: Number.POSITIVE_INFINITY, // not yet counted: one not among the recent is looked for in the file
});

async function prove(ctx: AuditContext, dir: string, index: number, size: number | undefined): Promise<number> {
  let entry: string | undefined;
  let checkpoint: Checkpoint | undefined;
  let proof: StreamedProof | undefined;
  let retired: Retirement | undefined;
  const scan = await verifiedScan(ctx, dir, {
    // the checkpoint is known before the first entry: the proof is built as the leaves pass
    onCheckpoints: (recent, retirement) => {
      retired = retirement;
      checkpoint = provenCheckpoint(historyOf(dir, recent), size);
      if (checkpoint && index < checkpoint.size && index >= (retired?.before ?? 0))
        proof = resumed(inclusionProof(index, checkpoint.size), retired);
    },
    onEntry: (decoded, position) => {
      if (position.index === index) entry = decoded.body.toString('utf8');
      proof?.push(decoded.leaf);
    },
  });
  if (retired && index < retired.before)
    throw new ProofError(`entry ${index} was retired: the log begins at entry ${retired.before} (${RETIRED_FILE})`);
  if (entry === undefined) throw new ProofError(`the log has no entry ${index} (it holds ${scan.entries})`);
  if (!checkpoint)
    throw new ProofError(size === undefined ? 'the log has no checkpoint yet' : `no checkpoint of tree size ${size}`);
  if (!proof)
    throw new ProofError(
      `entry ${index} is not yet covered by ${checkpointSummary(checkpoint)}; wait for the next checkpoint`,
    );
  const leaf = leafHash(Buffer.from(entry));
  const hashes = proof.proof();
  verifyInclusion(leaf, index, checkpoint.size, hashes, Buffer.from(checkpoint.root, 'hex'));
  const path = hashes.map((hash) => hash.toString('hex'));
  const doc: InclusionProofDoc = { format: INCLUSION_FORMAT, index, entry, checkpoint, path };
  const text = [
    `inclusion proof of entry ${index} in ${checkpointSummary(checkpoint)}`,
    `entry: ${entry}`,
    `leaf hash: ${leaf.toString('hex')}`,
    'path:',
    ...numbered(path),
    'save it with --json and check it with "vpm-gateway audit verify-proof FILE --public-key KEY"',
  ];
  emit(ctx, doc, `${text.join('\n')}\n`);
  return EXIT_OK;
}

/** --first/--second: a tree size of a checkpoint in the log, or a file holding one checkpoint (JSON). */
function chosenCheckpoint(value: string, log: CheckpointHistory, what: string): unknown {
  if (!/^\d+$/.test(value)) return readJsonFile(value, 'checkpoint');
  const found = findCheckpoint(log, (checkpoint) => checkpoint.size === Number(value));
  if (!found) throw new ProofError(`the log has no checkpoint of tree size ${value} (${what})`);
  return found;
}

const sizeOf = (value: unknown): unknown => (value as { size?: unknown } | undefined)?.size;

async function consistency(
  ctx: AuditContext,
  dir: string,
  firstValue: string,
  secondValue: string | undefined,
): Promise<number> {
  // both checkpoints are chosen before the first entry, so the proof is built as the leaves pass; why one
  // cannot be chosen is said once the log is known to verify, as it would be after the scan
  const chosen: { first?: unknown; second?: unknown; failed?: { error: unknown } } = {};
  let proof: StreamedProof | undefined;
  const scan = await verifiedScan(ctx, dir, {
    onCheckpoints: (recent, retirement) => {
      const log = historyOf(dir, recent);
      try {
        const first = chosenCheckpoint(firstValue, log, 'first');
        const second = secondValue ? chosenCheckpoint(secondValue, log, 'second') : recent.at(-1)?.checkpoint;
        Object.assign(chosen, { first, second });
        const [m, n] = [sizeOf(first), sizeOf(second)];
        if (Number.isSafeInteger(m) && Number.isSafeInteger(n) && (m as number) >= 1 && m! <= n!)
          proof = resumed(consistencyProof(m as number, n as number), retirement);
      } catch (err) {
        chosen.failed = { error: err };
      }
    },
    onEntry: (decoded) => proof?.push(decoded.leaf),
  });
  if (chosen.failed) throw chosen.failed.error;
  const key = scan.key;
  if (!key) throw new ProofError('no checkpoint key to check signatures with');
  const first = await checkedCheckpoint(chosen.first, key, 'first checkpoint');
  const second = await checkedCheckpoint(chosen.second, key, 'second checkpoint');
  if (first.size > second.size)
    throw new ProofError(`first tree size ${first.size} is larger than the second ${second.size}`);
  if (second.size > scan.entries)
    throw new ProofError(`second checkpoint covers ${second.size} entries but the log holds ${scan.entries}`);
  if (first.size === 0)
    throw new ProofError('the first checkpoint is of the empty tree: every log is consistent with it');
  if (!proof) throw new ProofError(`no consistency proof between tree sizes ${first.size} and ${second.size}`);
  const path = proof.proof();
  verifyConsistency(first.size, second.size, Buffer.from(first.root, 'hex'), Buffer.from(second.root, 'hex'), path);
  const doc: ConsistencyProofDoc = {
    format: CONSISTENCY_FORMAT,
    first,
    second,
    path: path.map((h) => h.toString('hex')),
  };
  const text = [`OK: ${checkpointSummary(second)} extends ${checkpointSummary(first)}`, 'consistency proof:'];
  emit(ctx, doc, `${[...text, ...numbered(doc.path)].join('\n')}\n`);
  return EXIT_OK;
}

const LOG_OPTION = { log: { type: 'string' } } as const satisfies ParseArgsOptionsConfig;

/** A proof from one log of the set given (--log picks it when there are several); a refusal exits 1. */
function proofCommand<O extends ParseArgsOptionsConfig>(spec: {
  name: string;
  synopsis: string;
  summary: string;
  help: [string, string][];
  options: O;
  proveIn(ctx: AuditContext, dir: string, values: Values<O & typeof LOG_OPTION>): Promise<number>;
}): Runner {
  return readerCommand<O & typeof LOG_OPTION>({
    name: spec.name,
    synopsis: spec.synopsis,
    summary: spec.summary,
    help: [...spec.help, LOG_OPTION_HELP],
    options: { ...spec.options, ...LOG_OPTION },
    maxPositionals: Number.POSITIVE_INFINITY,
    async run(ctx, values) {
      const { dir } = chosenLog(ctx, (values as { log?: string }).log);
      return spec.proveIn(ctx, dir, values).catch((err: unknown) => refused(ctx, err));
    },
  });
}

export const proveCommand = proofCommand({
  name: 'prove',
  synopsis: '[DIR...] [--log NAME] --index I [--size N] [options]',
  summary:
    'Prints the inclusion proof of entry I in the latest checkpoint (or the checkpoint of tree size N).\n' +
    'Exit 1 (refused) when the log fails verification or no checkpoint covers the entry yet.',
  help: [
    ['--index I', 'the entry to prove'],
    ['--size N', 'prove against the checkpoint of tree size N'],
  ],
  options: { index: { type: 'string' }, size: { type: 'string' } },
  async proveIn(ctx, dir, values) {
    const index = integerOption(values.index as string | undefined, 'index');
    if (index === undefined) throw new UsageError('prove needs --index I');
    return prove(ctx, dir, index, integerOption(values.size as string | undefined, 'size'));
  },
});

export const consistencyCommand = proofCommand({
  name: 'consistency',
  synopsis: '[DIR...] [--log NAME] --first SIZE|FILE [--second SIZE|FILE] [options]',
  summary:
    'Proves and checks that the log at checkpoint B (--second, default the latest) extends the log at\n' +
    'checkpoint A (--first): A and B are tree sizes of checkpoints in the log, or files holding one\n' +
    'checkpoint (a line of checkpoints.jsonl, or GET /audit/checkpoint). Exit 1 (refused) when it does not.',
  help: [
    ['--first SIZE|FILE', 'the earlier checkpoint'],
    ['--second SIZE|FILE', 'the later checkpoint (default: the latest in the log)'],
  ],
  options: { first: { type: 'string' }, second: { type: 'string' } },
  async proveIn(ctx, dir, values) {
    const first = values.first as string | undefined;
    if (!first) throw new UsageError('consistency needs --first SIZE|FILE');
    return consistency(ctx, dir, first, values.second as string | undefined);
  },
});

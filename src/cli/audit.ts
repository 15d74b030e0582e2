// `vpm-gateway audit ...`: operator commands on the audit log. Every command reads the log directly
// (no running gateway needed); each prints for a person by default and one JSON document with --json.
// Exit codes: 0 verified / done, 1 verification failed or proof refused, 2 bad usage or configuration.
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { auditConfigSchema, openAuditLog, type AuditConfig } from '../audit/config.ts';
import { storeSchema } from '../config/schema.ts';
import { entryMac, witnessChecks, witnessCommand, type WitnessContext } from './audit-witness.ts';
import { AUDIT_EVENTS, type AuditEventType } from '../audit/events.ts';
import {
  decodeCheckpointLine,
  describePosition,
  encodeCheckpointLine,
  FormatError,
  type Checkpoint,
  type StoredEntry,
} from '../audit/format.ts';
import { loadCheckpointPublicKey, verifyCheckpointSignature, type CheckpointVerifier } from '../audit/keys.ts';
import { leafHash, ProofError } from '../audit/merkle.ts';
import { verifyConsistency, verifyInclusion } from '../audit/merkle-verify.ts';
import { hashSubject, sameSubjectHash, subjectFromInput } from '../audit/privacy.ts';
import { describeProblem, scanLog, type LocatedCheckpoint, type ScanOptions, type ScanResult } from '../audit/scan.ts';
import { createLogger } from '../logger.ts';

export interface Out {
  stdout(s: string): void;
  stderr(s: string): void;
}

const USAGE = `usage: vpm-gateway audit <command> [options]
  verify [DIR]                 check every entry, the Merkle tree, every checkpoint signature and the times;
                               prints the first bad position
  query [DIR]                  list events: --from TIME --to TIME --client ID --provider ID --event TYPE|CODE
                               --correlation ID --personal-code CODE [--country LV] --limit N
  prove [DIR] --index I        inclusion proof of entry I against the latest checkpoint (or --size N)
  verify-proof FILE            check an inclusion or consistency proof document (needs --public-key or --config)
  consistency [DIR] --first A [--second B]
                               prove and check that the log at checkpoint B extends the log at checkpoint A;
                               A and B are tree sizes of checkpoints in the log or files holding a checkpoint
  repair --config FILE         move a torn tail (an interrupted write) aside and record that in the log
  witness --config FILE [--reset]
                               compare the log with its witnesses; --reset writes the log's latest checkpoint
                               to them after a full verification (a witness lost or configured later)
common options:
  --config FILE      gateway configuration: the audit directory, the checkpoint key and the subject hash key
  --public-key FILE  checkpoint public key (PEM or JWK) to pin; without it the copy in DIR is used
  --hash-key-file F  subject hash key for --personal-code (or --config)
  --witness FILE     (verify) a checkpoint saved earlier, e.g. from GET /audit/checkpoint: the log must hold it
  --json             one JSON document on stdout
`;

class UsageError extends Error {
  override name = 'UsageError';
}

const OPTIONS = {
  config: { type: 'string' },
  'public-key': { type: 'string' },
  'hash-key-file': { type: 'string' },
  json: { type: 'boolean' },
  from: { type: 'string' },
  to: { type: 'string' },
  client: { type: 'string' },
  provider: { type: 'string' },
  event: { type: 'string' },
  correlation: { type: 'string' },
  'personal-code': { type: 'string' },
  country: { type: 'string' },
  limit: { type: 'string' },
  index: { type: 'string' },
  size: { type: 'string' },
  first: { type: 'string' },
  second: { type: 'string' },
  witness: { type: 'string' },
  reset: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

interface Ctx {
  values: Values;
  positionals: string[];
  out: Out;
  json: boolean;
  config?: AuditConfig;
  /** the gateway's store block, for the Redis witness */
  storeConfig?: ReturnType<typeof storeSchema.parse>;
}

export async function runAudit(args: string[], out: Out): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    out.stderr(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [command, ...positionals] = parsed.positionals;
  if (parsed.values.help || command === undefined || command === 'help') {
    out.stdout(USAGE);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  const ctx: Ctx = { values: parsed.values, positionals, out, json: parsed.values.json === true };
  try {
    if (parsed.values.config) Object.assign(ctx, loadAuditConfig(parsed.values.config));
    switch (command) {
      case 'verify':
        return await verify(ctx);
      case 'query':
        return await query(ctx);
      case 'prove':
        return await prove(ctx);
      case 'verify-proof':
        return await verifyProof(ctx);
      case 'consistency':
        return await consistency(ctx);
      case 'repair':
        return await repair(ctx);
      case 'witness':
        return await witness(ctx);
      default:
        throw new UsageError(`unknown audit command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out.stderr(`${err.message}\n${USAGE}`);
      return 2;
    }
    out.stderr(`audit ${command}: ${(err as Error).message}\n`);
    return 2;
  }
}

/** The `audit:` and `store:` blocks of a gateway configuration file. */
function loadAuditConfig(path: string): { config: AuditConfig; storeConfig: ReturnType<typeof storeSchema.parse> } {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(
      `cannot read configuration ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const block = typeof doc === 'object' && doc !== null ? ((doc as Record<string, unknown>).audit ?? {}) : {};
  const result = auditConfigSchema.safeParse(block);
  if (!result.success) {
    throw new Error(`${path}: ${result.error.issues.map((i) => `audit.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const storeBlock =
    typeof doc === 'object' && doc !== null
      ? ((doc as Record<string, unknown>).store ?? { type: 'memory' })
      : { type: 'memory' };
  const store = storeSchema.safeParse(storeBlock);
  if (!store.success)
    throw new Error(`${path}: ${store.error.issues.map((i) => `store.${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { config: result.data, storeConfig: store.data };
}

function dirOf(ctx: Ctx): string {
  if (ctx.positionals.length > 1) throw new UsageError(`unexpected arguments: ${ctx.positionals.slice(1).join(' ')}`);
  return ctx.positionals[0] ?? ctx.config?.dir ?? 'var/audit';
}

/** The pinned checkpoint key: --public-key, else the configured signing key's public half. */
async function pinnedKey(ctx: Ctx): Promise<CheckpointVerifier | undefined> {
  if (ctx.values['public-key']) return loadCheckpointPublicKey(ctx.values['public-key']);
  if (ctx.config) return loadCheckpointPublicKey(ctx.config.signing_key);
  return undefined;
}

function emit(ctx: Ctx, json: unknown, text: string): void {
  if (ctx.json) ctx.out.stdout(`${JSON.stringify(json, null, 2)}\n`);
  else ctx.out.stdout(text);
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

function timeOption(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new UsageError(`--${name} is not a date or time (use ISO 8601, e.g. 2025-01-31T12:00:00Z)`);
  return new Date(ms).toISOString();
}

const short = (hex: string) => `${hex.slice(0, 16)}…`;

function checkpointSummary(cp: Checkpoint): string {
  return `checkpoint ${cp.n} (size ${cp.size}, root ${short(cp.root)}, ${cp.time})`;
}

// verify ------------------------------------------------------------------------------------------

async function verify(ctx: Ctx): Promise<number> {
  const dir = dirOf(ctx);
  const scan = await scanLog(dir, { key: await pinnedKey(ctx), signatures: 'all', mac: entryMac(witnessContext(ctx)) });
  const witnessProblems = await witnessChecks(witnessContext(ctx), scan);
  const ok = scan.problems.length === 0 && witnessProblems.length === 0;
  const latest = scan.checkpoints.at(-1)?.checkpoint;
  const unauthenticated = scan.tailAuthenticated ? 0 : scan.tail;
  const witnessed = ctx.config ? 'the witnesses' : ctx.values.witness ? 'the given witness' : undefined;
  const lines = [
    `audit log ${dir}: ${scan.entries} entries, ${scan.checkpoints.length} checkpoints${latest ? `, latest ${checkpointSummary(latest)}` : ''}`,
  ];
  lines.push(
    `checkpoint key: ${scan.key?.kid ?? 'none'}${scan.keyPinned ? ' (pinned)' : ' (from the log directory, not pinned)'}`,
  );
  if (ok && unauthenticated === 0)
    lines.push(
      `OK: every entry, the tree, every checkpoint signature and the timestamps verify${scan.tail ? ` (the ${scan.tail} entries after the latest checkpoint by their MACs)` : ''}${witnessed ? `; the log agrees with ${witnessed}` : ''}`,
    );
  else if (ok) {
    lines.push(
      `OK up to the latest checkpoint (entries 0..${scan.entries - unauthenticated - 1}): the tree, every checkpoint signature and the timestamps verify`,
    );
    lines.push(
      `NOT AUTHENTICATED: the last ${unauthenticated} entries are covered by no signed checkpoint; only the entry MAC key (--config) can authenticate them`,
    );
  } else {
    const first = scan.problems[0] ? describeProblem(scan.problems[0]) : witnessProblems[0]!;
    lines.push(`FAILED: ${scan.problems[0] ? 'first bad position: ' : ''}${first}`);
    for (const p of scan.problems.slice(1)) lines.push(`  also: ${describeProblem(p)}`);
    for (const p of scan.problems.length ? witnessProblems : witnessProblems.slice(1)) lines.push(`  also: ${p}`);
    if (scan.moreProblems) lines.push(`  ... and ${scan.moreProblems} more problems`);
  }
  if (!witnessed)
    lines.push(
      'note: no witness checked (--config or --witness FILE): a log cut back to an earlier checkpoint cannot be told from a shorter one',
    );
  for (const w of scan.warnings) if (!w.includes('not yet covered by a signature')) lines.push(`warning: ${w}`);
  emit(
    ctx,
    {
      ok,
      dir,
      entries: scan.entries,
      checkpoints: scan.checkpoints.length,
      latest: latest ?? null,
      key: scan.key?.kid ?? null,
      key_pinned: scan.keyPinned,
      first_bad: scan.problems[0] ?? null,
      problems: scan.problems,
      witness_problems: witnessProblems,
      witness_checked: witnessed !== undefined,
      uncheckpointed: scan.tail,
      unauthenticated,
      more_problems: scan.moreProblems,
      warnings: scan.warnings,
    },
    `${lines.join('\n')}\n`,
  );
  return ok ? 0 : 1;
}

// query -------------------------------------------------------------------------------------------

function hashKeyFor(ctx: Ctx): string {
  if (ctx.values['hash-key-file']) {
    try {
      return readFileSync(ctx.values['hash-key-file'], 'utf8').trim();
    } catch (err) {
      throw new Error(`cannot read ${ctx.values['hash-key-file']}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (ctx.config?.subject_hash_key) return ctx.config.subject_hash_key;
  if (ctx.config) {
    const path = ctx.config.signing_key.replace(/[^/]*$/, 'subject-hash.key');
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      throw new Error(`no subject_hash_key configured and ${path} cannot be read`);
    }
  }
  throw new UsageError('--personal-code needs the subject hash key: --hash-key-file FILE or --config FILE');
}

async function query(ctx: Ctx): Promise<number> {
  const dir = dirOf(ctx);
  const v = ctx.values;
  const from = timeOption(v.from, 'from');
  const to = timeOption(v.to, 'to');
  const limit = intOption(v.limit, 'limit');
  let eventType: AuditEventType | undefined;
  const event = v.event;
  if (event !== undefined) {
    const byCode = (Object.entries(AUDIT_EVENTS) as [AuditEventType, string][]).find(
      ([, code]) => code === event.toUpperCase(),
    );
    if (Object.hasOwn(AUDIT_EVENTS, event)) eventType = event as AuditEventType;
    else if (byCode) eventType = byCode[0];
    else throw new UsageError(`--event ${JSON.stringify(event)} is not an audit event type or code`);
  }
  let sub: string | undefined;
  if (v['personal-code'] !== undefined) {
    const subject = subjectFromInput(v['personal-code'], v.country ?? 'LV');
    sub = hashSubject(hashKeyFor(ctx), subject);
  }
  const matches: (StoredEntry & { position: string })[] = [];
  let total = 0;
  const scan = await scanLog(dir, {
    key: await pinnedKey(ctx),
    onEntry: ({ entry: e }, position) => {
      if (from && e.t < from) return;
      if (to && e.t > to) return;
      if (v.client !== undefined && e.client !== v.client) return;
      if (v.provider !== undefined && e.provider !== v.provider) return;
      if (v.correlation !== undefined && e.corr !== v.correlation) return;
      if (eventType && e.type !== eventType) return;
      if (sub && !(e.sub && sameSubjectHash(e.sub, sub))) return;
      total++;
      if (limit === undefined || matches.length < limit) matches.push({ ...e, position: describePosition(position) });
    },
  });
  if (scan.problems.length)
    ctx.out.stderr(
      `warning: the log fails verification (${describeProblem(scan.problems[0]!)}); run "vpm-gateway audit verify"\n`,
    );
  const text = matches
    .map((e) => {
      const parts = [e.t, e.code, e.type.padEnd(26)];
      if (e.corr) parts.push(`corr=${e.corr}`);
      if (e.client) parts.push(`client=${e.client}`);
      if (e.provider) parts.push(`provider=${e.provider}`);
      if (e.sub) parts.push(`subject=${e.sub.slice(0, 24)}…`);
      if (e.claims) parts.push('claims=<encrypted>');
      if (e.detail) parts.push(JSON.stringify(e.detail));
      return `#${e.i} ${parts.join('  ')}`;
    })
    .join('\n');
  emit(
    ctx,
    { count: total, shown: matches.length, entries: matches },
    `${text}${text ? '\n' : ''}${total} matching entries${total > matches.length ? ` (${matches.length} shown)` : ''}\n`,
  );
  return 0;
}

// proofs ------------------------------------------------------------------------------------------

const INCLUSION_FORMAT = 'vpm-audit-inclusion-proof/1';
const CONSISTENCY_FORMAT = 'vpm-audit-consistency-proof/1';

export interface InclusionProofDoc {
  format: typeof INCLUSION_FORMAT;
  index: number;
  /** the exact entry bytes (the Merkle leaf) */
  entry: string;
  checkpoint: Checkpoint;
  path: string[];
}

export interface ConsistencyProofDoc {
  format: typeof CONSISTENCY_FORMAT;
  first: Checkpoint;
  second: Checkpoint;
  path: string[];
}

async function verifiedScan(ctx: Ctx, dir: string, onEntry?: ScanOptions['onEntry']): Promise<ScanResult> {
  const scan = await scanLog(dir, {
    key: await pinnedKey(ctx),
    signatures: 'all',
    keepLeaves: true,
    ...(onEntry ? { onEntry } : {}),
  });
  if (scan.problems.length)
    throw new ProofError(
      `the log fails verification (${describeProblem(scan.problems[0]!)}); run "vpm-gateway audit verify"`,
    );
  return scan;
}

async function prove(ctx: Ctx): Promise<number> {
  const dir = dirOf(ctx);
  const index = intOption(ctx.values.index, 'index');
  if (index === undefined) throw new UsageError('prove needs --index I');
  const size = intOption(ctx.values.size, 'size');
  let entry: string | undefined;
  let scan: ScanResult;
  try {
    scan = await verifiedScan(ctx, dir, (d, p) => {
      if (p.index === index) entry = d.body.toString('utf8');
    });
  } catch (err) {
    return refused(ctx, err);
  }
  if (entry === undefined)
    return refused(ctx, new ProofError(`the log has no entry ${index} (it holds ${scan.entries})`));
  const cp =
    size === undefined
      ? scan.checkpoints.at(-1)?.checkpoint
      : scan.checkpoints.find((c) => c.checkpoint.size === size)?.checkpoint;
  if (!cp)
    return refused(
      ctx,
      new ProofError(size === undefined ? 'the log has no checkpoint yet' : `no checkpoint of tree size ${size}`),
    );
  if (cp.size <= index)
    return refused(
      ctx,
      new ProofError(`entry ${index} is not yet covered by ${checkpointSummary(cp)}; wait for the next checkpoint`),
    );
  const path = scan.leaves!.inclusionProof(index, cp.size).map((h) => h.toString('hex'));
  const doc: InclusionProofDoc = { format: INCLUSION_FORMAT, index, entry, checkpoint: cp, path };
  emit(
    ctx,
    doc,
    [
      `inclusion proof of entry ${index} in ${checkpointSummary(cp)}`,
      `entry: ${entry}`,
      `leaf hash: ${leafHash(Buffer.from(entry)).toString('hex')}`,
      'path:',
      ...path.map((h, i) => `  ${i}: ${h}`),
      'save it with --json and check it with "vpm-gateway audit verify-proof FILE --public-key KEY"',
      '',
    ].join('\n'),
  );
  return 0;
}

function refused(ctx: Ctx, err: unknown): number {
  if (!(err instanceof ProofError) && !(err instanceof FormatError) && (err as Error).name !== 'AuditKeyError')
    throw err;
  const message = (err as Error).message;
  emit(ctx, { ok: false, error: message }, `REFUSED: ${message}\n`);
  return 1;
}

/** A checkpoint from a proof document or file: checked for form, then for its signature. */
async function checkedCheckpoint(value: unknown, key: CheckpointVerifier, what: string): Promise<Checkpoint> {
  if (typeof value !== 'object' || value === null) throw new ProofError(`${what} is missing`);
  let cp: Checkpoint;
  try {
    cp = decodeCheckpointLine(encodeCheckpointLine(value as Checkpoint).trimEnd());
  } catch (err) {
    throw new ProofError(`${what}: ${(err as Error).message}`);
  }
  try {
    await verifyCheckpointSignature(cp, key);
  } catch (err) {
    throw new ProofError(`${what}: ${(err as Error).message}`);
  }
  return cp;
}

function hashes(value: unknown, what: string): Buffer[] {
  if (!Array.isArray(value) || value.some((h) => typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)))
    throw new ProofError(`${what} must be an array of hex SHA-256 hashes`);
  return (value as string[]).map((h) => Buffer.from(h, 'hex'));
}

async function verifyProof(ctx: Ctx): Promise<number> {
  const [file, ...rest] = ctx.positionals;
  if (!file || rest.length) throw new UsageError('verify-proof needs exactly one proof FILE');
  const key = await pinnedKey(ctx);
  if (!key) throw new UsageError('verify-proof needs the checkpoint public key: --public-key FILE or --config FILE');
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (typeof doc !== 'object' || doc === null) throw new Error('not an object');
  } catch (err) {
    throw new Error(`cannot read proof ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    if (doc.format === INCLUSION_FORMAT) {
      const cp = await checkedCheckpoint(doc.checkpoint, key, 'checkpoint');
      if (typeof doc.entry !== 'string') throw new ProofError('proof carries no entry');
      if (!Number.isSafeInteger(doc.index)) throw new ProofError('proof carries no valid index');
      const index = doc.index as number;
      let carried: unknown;
      try {
        carried = (JSON.parse(doc.entry) as { i?: unknown }).i;
      } catch {
        throw new ProofError('proof entry is not valid JSON');
      }
      if (carried !== index)
        throw new ProofError(`proof is for index ${index} but the entry carries index ${String(carried)}`);
      verifyInclusion(
        leafHash(Buffer.from(doc.entry)),
        index,
        cp.size,
        hashes(doc.path, 'path'),
        Buffer.from(cp.root, 'hex'),
      );
      emit(
        ctx,
        { ok: true, kind: 'inclusion', index, checkpoint: cp },
        `OK: entry ${index} is included in the log at ${checkpointSummary(cp)}, signed by ${key.kid}\n`,
      );
      return 0;
    }
    if (doc.format === CONSISTENCY_FORMAT) {
      const first = await checkedCheckpoint(doc.first, key, 'first checkpoint');
      const second = await checkedCheckpoint(doc.second, key, 'second checkpoint');
      verifyConsistency(
        first.size,
        second.size,
        Buffer.from(first.root, 'hex'),
        Buffer.from(second.root, 'hex'),
        hashes(doc.path, 'path'),
      );
      emit(
        ctx,
        { ok: true, kind: 'consistency', first, second },
        `OK: ${checkpointSummary(second)} extends ${checkpointSummary(first)}, both signed by ${key.kid}\n`,
      );
      return 0;
    }
    throw new ProofError(`${file} is not an audit proof (format ${JSON.stringify(doc.format)})`);
  } catch (err) {
    return refused(ctx, err);
  }
}

/** --first/--second: a tree size of a checkpoint in the log, or a file holding one checkpoint (JSON). */
function pickCheckpoint(value: string, checkpoints: LocatedCheckpoint[], what: string): unknown {
  if (/^\d+$/.test(value)) {
    const found = checkpoints.find((c) => c.checkpoint.size === Number(value));
    if (!found) throw new ProofError(`the log has no checkpoint of tree size ${value} (${what})`);
    return found.checkpoint;
  }
  try {
    return JSON.parse(readFileSync(value, 'utf8'));
  } catch (err) {
    throw new Error(
      `cannot read checkpoint ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

async function consistency(ctx: Ctx): Promise<number> {
  const dir = dirOf(ctx);
  if (!ctx.values.first) throw new UsageError('consistency needs --first SIZE|FILE');
  try {
    const scan = await verifiedScan(ctx, dir);
    const key = scan.key;
    if (!key) throw new ProofError('no checkpoint key to check signatures with');
    const first = await checkedCheckpoint(
      pickCheckpoint(ctx.values.first, scan.checkpoints, 'first'),
      key,
      'first checkpoint',
    );
    const secondRaw = ctx.values.second
      ? pickCheckpoint(ctx.values.second, scan.checkpoints, 'second')
      : scan.checkpoints.at(-1)?.checkpoint;
    const second = await checkedCheckpoint(secondRaw, key, 'second checkpoint');
    if (first.size > second.size)
      throw new ProofError(`first tree size ${first.size} is larger than the second ${second.size}`);
    if (second.size > scan.entries)
      throw new ProofError(`second checkpoint covers ${second.size} entries but the log holds ${scan.entries}`);
    if (first.size === 0)
      throw new ProofError('the first checkpoint is of the empty tree: every log is consistent with it');
    const path = scan.leaves!.consistencyProof(first.size, second.size);
    verifyConsistency(first.size, second.size, Buffer.from(first.root, 'hex'), Buffer.from(second.root, 'hex'), path);
    const doc: ConsistencyProofDoc = {
      format: CONSISTENCY_FORMAT,
      first,
      second,
      path: path.map((h) => h.toString('hex')),
    };
    emit(
      ctx,
      doc,
      [
        `OK: ${checkpointSummary(second)} extends ${checkpointSummary(first)}`,
        'consistency proof:',
        ...doc.path.map((h, i) => `  ${i}: ${h}`),
        '',
      ].join('\n'),
    );
    return 0;
  } catch (err) {
    return refused(ctx, err);
  }
}

// repair ------------------------------------------------------------------------------------------

async function repair(ctx: Ctx): Promise<number> {
  if (!ctx.config) throw new UsageError('repair needs --config FILE (it writes to the log with the configured keys)');
  if (ctx.positionals.length) throw new UsageError('repair takes no DIR: it repairs the configured audit directory');
  const dir = ctx.config.dir;
  const before = await scanLog(dir, { key: await pinnedKey(ctx), signatures: 'latest' });
  const damage = before.problems.filter((p) => p.kind !== 'torn');
  if (damage.length) {
    emit(
      ctx,
      { ok: false, error: 'the log has damage other than a torn tail', problems: damage },
      `REFUSED: the log has damage other than a torn tail, which a repair must not hide: ${describeProblem(damage[0]!)}\n`,
    );
    return 1;
  }
  if (before.torn.length === 0) {
    emit(ctx, { ok: true, repaired: [] }, `nothing to repair: ${dir} has no torn tail\n`);
    return 0;
  }
  const logger = createLogger('warn', (line) => ctx.out.stderr(`${line}\n`));
  const log = await openAuditLog(ctx.config, logger, { tornTail: 'repair' });
  await log.close();
  const repaired = before.torn.map((t) => ({ ...t, moved_to: `torn/${t.file}.${t.offset}.torn` }));
  emit(
    ctx,
    { ok: true, repaired },
    repaired
      .map(
        (t) =>
          `moved ${t.length} torn bytes of ${t.file} (line ${t.line}, byte ${t.offset}) to ${dir}/${t.moved_to}; recorded as audit_log_repaired\n`,
      )
      .join(''),
  );
  return 0;
}

// witness -----------------------------------------------------------------------------------------

async function witness(ctx: Ctx): Promise<number> {
  if (!ctx.config) throw new UsageError('witness needs --config FILE (the witnesses and keys it names)');
  if (ctx.positionals.length) throw new UsageError('witness takes no DIR: it uses the configured audit directory');
  const key = await pinnedKey(ctx);
  if (!key) throw new UsageError('witness needs the checkpoint key (--config)');
  const r = await witnessCommand({ ...witnessContext(ctx), config: ctx.config }, key, ctx.values.reset === true);
  emit(ctx, r.json, r.text);
  return r.code;
}

function witnessContext(ctx: Ctx): WitnessContext {
  return {
    ...(ctx.config ? { config: ctx.config } : {}),
    ...(ctx.storeConfig ? { storeConfig: ctx.storeConfig } : {}),
    witnessFile: ctx.values.witness,
  };
}

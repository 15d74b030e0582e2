// `audit query [DIR...] [filters]`: the entries of every log that match every filter given, in time order.
import type { ParseArgsOptionsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { AUDIT_EVENTS, type AuditEventType } from '../../audit/events.ts';
import { describePosition, type StoredEntry } from '../../audit/format.ts';
import { hashSubject, subjectFromInput } from '../../audit/privacy.ts';
import { constantTimeEqual } from '../../constant-time.ts';
import { describeProblem, scanLog } from '../../audit/scan.ts';
import { REFERENCE_LENGTH } from '../../web/views.ts';
import { EXIT_OK, emit, integerOption, timeOption, UsageError, type Values } from '../command.ts';
import { type AuditContext, readerCommand, pinnedKey } from './context.ts';
import { configuredLog, logSet } from './log-set.ts';
import { missingLogs } from './missing-logs.ts';
import { entryMac, witnessChecks } from './witness-checks.ts';

const QUERY_OPTIONS = {
  'hash-key-file': { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  client: { type: 'string' },
  provider: { type: 'string' },
  event: { type: 'string' },
  correlation: { type: 'string' },
  'personal-code': { type: 'string' },
  country: { type: 'string' },
  limit: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

type QueryValues = Values<typeof QUERY_OPTIONS>;

/** An event type given by name (`identity_released`) or by code (`A150`). */
function eventType(value: string): AuditEventType {
  if (Object.hasOwn(AUDIT_EVENTS, value)) return value as AuditEventType;
  const byCode = (Object.entries(AUDIT_EVENTS) as [AuditEventType, string][]).find(
    ([, code]) => code === value.toUpperCase(),
  );
  if (!byCode) throw new UsageError(`--event ${JSON.stringify(value)} is not an audit event type or code`);
  return byCode[0];
}

function readKeyFile(path: string, failure: (code: string) => string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(failure((err as NodeJS.ErrnoException).code ?? 'error'));
  }
}

/** The key personal codes are hashed with: --hash-key-file, else the configured or generated one. */
function subjectHashKey(ctx: AuditContext, hashKeyFile: string | undefined): string {
  if (hashKeyFile) return readKeyFile(hashKeyFile, (code) => `cannot read ${hashKeyFile}: ${code}`);
  if (!ctx.config)
    throw new UsageError('--personal-code needs the subject hash key: --hash-key-file FILE or --config FILE');
  if (ctx.config.subject_hash_key) return ctx.config.subject_hash_key;
  const generated = ctx.config.signing_key.replace(/[^/]*$/, 'subject-hash.key');
  return readKeyFile(generated, () => `no subject_hash_key configured and ${generated} cannot be read`);
}

/** One predicate of every filter given. */
function entryFilter(ctx: AuditContext, values: QueryValues): (entry: StoredEntry) => boolean {
  const from = timeOption(values.from, 'from');
  const to = timeOption(values.to, 'to');
  const type = values.event === undefined ? undefined : eventType(values.event);
  // `-`: from standard input, so the code stays out of the process list and the shell's history
  const personalCode = values['personal-code'] === '-' ? readFileSync(0, 'utf8').trim() : values['personal-code'];
  const subject =
    personalCode === undefined
      ? undefined
      : hashSubject(
          subjectHashKey(ctx, values['hash-key-file']),
          subjectFromInput(personalCode, values.country ?? 'LV'),
        );
  return (entry) =>
    !(from && entry.t < from) &&
    !(to && entry.t > to) &&
    (values.client === undefined || entry.client === values.client) &&
    (values.provider === undefined || entry.provider === values.provider) &&
    (values.correlation === undefined || matchesCorrelation(entry.corr, values.correlation)) &&
    (type === undefined || entry.type === type) &&
    (subject === undefined || (entry.sub !== undefined && constantTimeEqual(entry.sub, subject)));
}

/** A whole correlation id, or the short reference a user's error page shows (a prefix of at least
 * MIN_REFERENCE characters: fewer would match unrelated logins). */
const MIN_REFERENCE = 8;
function matchesCorrelation(corr: string | undefined, wanted: string): boolean {
  if (corr === undefined) return false;
  return corr === wanted || (wanted.length >= MIN_REFERENCE && corr.startsWith(wanted));
}

type Shown = StoredEntry & { log: string; position: string };

/**
 * The matches to show, in time order (equal times: the order they were found, so the order of the logs, then
 * of the entries), and how many matched. With a limit only the first `limit` are kept while the logs are read:
 * a year of a log holds millions of entries of each kind, and holding every match ran out of memory before the
 * few asked for were printed.
 */
class FirstMatches {
  count = 0;
  private kept: { entry: Shown; k: number }[] = [];
  private readonly limit: number | undefined;

  constructor(limit: number | undefined) {
    this.limit = limit;
  }

  add(entry: Shown): void {
    this.kept.push({ entry, k: this.count++ });
    if (this.limit !== undefined && this.kept.length >= 2 * this.limit + 1024) this.trim();
  }

  first(): Shown[] {
    this.trim();
    return this.kept.map(({ entry }) => entry);
  }

  private trim(): void {
    this.kept.sort((a, b) => (a.entry.t < b.entry.t ? -1 : a.entry.t > b.entry.t ? 1 : a.k - b.k));
    if (this.limit !== undefined) this.kept.length = Math.min(this.kept.length, this.limit);
  }
}

function entryLine(entry: Shown, several: boolean): string {
  const parts = [entry.t, entry.code, entry.type.padEnd(26)];
  if (entry.corr) parts.push(`corr=${entry.corr}`);
  if (entry.client) parts.push(`client=${entry.client}`);
  if (entry.provider) parts.push(`provider=${entry.provider}`);
  if (entry.sub) parts.push(`subject=${entry.sub.slice(0, 24)}…`);
  if (entry.claims) parts.push('claims=<encrypted>');
  if (entry.detail) parts.push(JSON.stringify(entry.detail));
  return `${several ? `${entry.log} ` : ''}#${entry.i} ${parts.join('  ')}\n`;
}

/** Matches of every log, merged in time order; equal times keep the order of the logs, then of the entries. */
async function query(ctx: AuditContext, values: QueryValues): Promise<number> {
  const logs = logSet(ctx);
  const limit = integerOption(values.limit, 'limit');
  const matches = entryFilter(ctx, values);
  const found = new FirstMatches(limit);
  let wholeIdSeen = false;
  const key = await pinnedKey(ctx);
  for (const log of logs) {
    // as verify: --config speaks for a single log given, in a set for its own log and its workers'
    const own = logs.length === 1 ? (configuredLog(ctx, log) ?? ctx.config) : configuredLog(ctx, log);
    const mac = entryMac({ config: own });
    let signed = 0;
    let unsigned = 0;
    const scan = await scanLog(log.dir, {
      key,
      mac,
      onCheckpoints: (checkpoints) => {
        signed = checkpoints.at(-1)?.checkpoint.size ?? 0;
      },
      onEntry: ({ entry }, position) => {
        if (entry.corr !== undefined && entry.corr === values.correlation) wholeIdSeen = true;
        if (!matches(entry)) return;
        if (entry.i >= signed) unsigned++;
        found.add({ ...entry, log: log.name, position: describePosition(position) });
      },
    });
    // as verify --config: a log cut back to an earlier checkpoint is whole in itself, only its witnesses tell
    const witnessProblems = own ? await witnessChecks({ config: own, storeConfig: ctx.storeConfig }, scan) : [];
    if (scan.problems.length)
      ctx.io.stderr(
        `warning: the log ${log.dir} fails verification (${describeProblem(scan.problems[0]!)}); run "vpm-gateway audit verify"\n`,
      );
    else if (witnessProblems.length)
      ctx.io.stderr(
        `warning: the log ${log.dir} fails verification: ${witnessProblems[0]}; run "vpm-gateway audit verify --config FILE"\n`,
      );
    else if (!mac && unsigned)
      ctx.io.stderr(
        `warning: ${unsigned} matching entries of ${log.dir} follow its latest checkpoint: no signature covers them yet, and only the entry MAC key of --config authenticates them\n`,
      );
  }
  // a worker's log deleted whole is in no directory listing: its witness still names it
  for (const missing of missingLogs(ctx.config, logs, ctx.positionals))
    ctx.io.stderr(
      `warning: the log ${missing.dir} fails verification: its witness ${missing.witness} holds ${missing.holds} but the directory holds no log; its entries cannot be searched\n`,
    );
  // a short prefix matches nothing by design (too short to be a reference): say so rather than print none
  const wanted = values.correlation;
  if (wanted !== undefined && wanted.length < MIN_REFERENCE && !wholeIdSeen)
    throw new UsageError(
      `--correlation ${JSON.stringify(wanted)} is no login's whole id, and a reference needs at least ${MIN_REFERENCE} of its characters (an error page shows ${REFERENCE_LENGTH})`,
    );
  const shown = found.first();
  const count = found.count;
  const several = logs.length > 1;
  const summary = `${count} matching entries${several ? ` in ${logs.length} logs` : ''}${count > shown.length ? ` (${shown.length} shown)` : ''}\n`;
  emit(
    ctx,
    { count, shown: shown.length, logs: logs.map((log) => ({ name: log.name, dir: log.dir })), entries: shown },
    `${shown.map((entry) => entryLine(entry, several)).join('')}${summary}`,
  );
  return EXIT_OK;
}

export const queryCommand = readerCommand({
  name: 'query',
  synopsis: '[DIR...] [filters] [options]',
  summary:
    'Lists the entries that match every filter given, and how many match. Entries of several logs are\n' +
    'merged in time order (equal times: in the order the logs are given), each named by its log. A log that\n' +
    'fails verification (with --config: also against its witnesses) is warned of on stderr; exit 0 still.',
  help: [
    ['--from TIME, --to TIME', 'entries at or after / at or before a time (ISO 8601)'],
    ['--client ID, --provider ID', 'entries of one agency service / one provider'],
    ['--event TYPE|CODE', 'entries of one event type (identity_released) or code (A150)'],
    [
      '--correlation ID',
      `the entries of one login (the whole id, or the reference on its error\npage: at least ${MIN_REFERENCE} of its first characters)`,
    ],
    [
      '--personal-code CODE',
      'entries of one person: PNOLV-010180-15097, 010180-15097 or\n01018015097 (hashed with the subject hash key); - reads it\nfrom standard input (kept out of ps and shell history)',
    ],
    ['--country CC', 'country of a bare --personal-code (default LV)'],
    ['--limit N', 'show at most N entries (all are counted; at most about 2N + 1024 are held in memory)'],
    ['--hash-key-file FILE', 'the subject hash key (default: that of --config)'],
  ],
  options: QUERY_OPTIONS,
  maxPositionals: Number.POSITIVE_INFINITY,
  run: query,
});

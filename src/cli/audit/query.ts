// `audit query [DIR] [filters]`: the entries that match every filter given, in log order.
import type { ParseArgsOptionsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { AUDIT_EVENTS, type AuditEventType } from '../../audit/events.ts';
import { describePosition, type StoredEntry } from '../../audit/format.ts';
import { hashSubject, sameSubjectHash, subjectFromInput } from '../../audit/privacy.ts';
import { describeProblem, scanLog } from '../../audit/scan.ts';
import { EXIT_OK, emit, integerOption, timeOption, UsageError, type Values } from '../command.ts';
import { type AuditContext, readerCommand, logDirectory, pinnedKey } from './context.ts';

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
  const personalCode = values['personal-code'];
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
    (values.correlation === undefined || entry.corr === values.correlation) &&
    (type === undefined || entry.type === type) &&
    (subject === undefined || (entry.sub !== undefined && sameSubjectHash(entry.sub, subject)));
}

function entryLine(entry: StoredEntry): string {
  const parts = [entry.t, entry.code, entry.type.padEnd(26)];
  if (entry.corr) parts.push(`corr=${entry.corr}`);
  if (entry.client) parts.push(`client=${entry.client}`);
  if (entry.provider) parts.push(`provider=${entry.provider}`);
  if (entry.sub) parts.push(`subject=${entry.sub.slice(0, 24)}…`);
  if (entry.claims) parts.push('claims=<encrypted>');
  if (entry.detail) parts.push(JSON.stringify(entry.detail));
  return `#${entry.i} ${parts.join('  ')}\n`;
}

async function query(ctx: AuditContext, values: QueryValues): Promise<number> {
  const dir = logDirectory(ctx);
  const limit = integerOption(values.limit, 'limit');
  const matches = entryFilter(ctx, values);
  const shown: (StoredEntry & { position: string })[] = [];
  let count = 0;
  const scan = await scanLog(dir, {
    key: await pinnedKey(ctx),
    onEntry: ({ entry }, position) => {
      if (!matches(entry)) return;
      count++;
      if (limit === undefined || shown.length < limit) shown.push({ ...entry, position: describePosition(position) });
    },
  });
  if (scan.problems.length)
    ctx.io.stderr(
      `warning: the log fails verification (${describeProblem(scan.problems[0]!)}); run "vpm-gateway audit verify"\n`,
    );
  const summary = `${count} matching entries${count > shown.length ? ` (${shown.length} shown)` : ''}\n`;
  emit(ctx, { count, shown: shown.length, entries: shown }, `${shown.map(entryLine).join('')}${summary}`);
  return EXIT_OK;
}

export const queryCommand = readerCommand({
  name: 'query',
  synopsis: '[DIR] [filters] [options]',
  summary: 'Lists the entries that match every filter given, in log order, and how many match.',
  help: [
    ['--from TIME, --to TIME', 'entries at or after / at or before a time (ISO 8601)'],
    ['--client ID, --provider ID', 'entries of one agency service / one provider'],
    ['--event TYPE|CODE', 'entries of one event type (identity_released) or code (A150)'],
    ['--correlation ID', 'the entries of one login'],
    [
      '--personal-code CODE',
      'entries of one person: PNOLV-010180-15097, 010180-15097 or\n01018015097 (hashed with the subject hash key)',
    ],
    ['--country CC', 'country of a bare --personal-code (default LV)'],
    ['--limit N', 'show at most N entries (all are counted)'],
    ['--hash-key-file FILE', 'the subject hash key (default: that of --config)'],
  ],
  options: QUERY_OPTIONS,
  maxPositionals: 1,
  run: query,
});

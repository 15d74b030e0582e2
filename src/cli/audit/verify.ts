// `audit verify [DIR...]`: every log of the set, front to back, and (with --config or --witness) its witnesses.
import { describeProblem, scanLog, type ScanResult } from '../../audit/scan.ts';
import { RETIRED_FILE } from '../../audit/retired-marker.ts';
import { EXIT_FAILED, EXIT_OK, emit, UsageError } from '../command.ts';
import { type AuditContext, readerCommand, checkpointSummary, pinnedKey } from './context.ts';
import type { AuditConfig } from '../../audit/config.ts';
import { configuredLog, type LogRef, logSet } from './log-set.ts';
import { entryMac, witnessChecks } from './witness-checks.ts';
import { missingLogs } from './missing-logs.ts';

function verdict(scan: ScanResult, witnessProblems: string[], witnessed: string | undefined): string[] {
  const unauthenticated = scan.tailAuthenticated ? 0 : scan.tail;
  if (scan.problems.length === 0 && witnessProblems.length === 0) {
    if (unauthenticated === 0) {
      const tail = scan.tail ? ` (the ${scan.tail} entries after the latest checkpoint by their MACs)` : '';
      const agreement = witnessed ? `; the log agrees with ${witnessed}` : '';
      return [`OK: every entry, the tree, every checkpoint signature and the timestamps verify${tail}${agreement}`];
    }
    return [
      `OK up to the latest checkpoint (entries ${scan.retiredBefore ?? 0}..${scan.entries - unauthenticated - 1}): the tree, every checkpoint signature and the timestamps verify`,
      `NOT AUTHENTICATED: the last ${unauthenticated} entries are covered by no signed checkpoint; only the entry MAC key (--config) can authenticate them`,
    ];
  }
  const [firstProblem, ...otherProblems] = scan.problems;
  const lines = firstProblem
    ? [`FAILED: first bad position: ${describeProblem(firstProblem)}`]
    : [`FAILED: ${witnessProblems[0]}`];
  for (const problem of otherProblems) lines.push(`  also: ${describeProblem(problem)}`);
  for (const problem of firstProblem ? witnessProblems : witnessProblems.slice(1)) lines.push(`  also: ${problem}`);
  if (scan.moreProblems) lines.push(`  ... and ${scan.moreProblems} more problems`);
  return lines;
}

interface LogVerdict {
  ok: boolean;
  lines: string[];
  report: Record<string, unknown>;
}

/** One log; `own`: the `audit:` block of --config whose witnesses, MAC key and clock apply to it. */
async function verifyLog(
  ctx: AuditContext,
  log: LogRef,
  own: AuditConfig | undefined,
  witnessFile?: string,
): Promise<LogVerdict> {
  const { dir } = log;
  const checks = own ? { ...ctx, config: own, witnessFile } : { witnessFile };
  const scan = await scanLog(dir, { key: await pinnedKey(ctx), signatures: 'all', mac: entryMac(checks) });
  const witnessProblems = await witnessChecks(checks, scan);
  const ok = scan.problems.length === 0 && witnessProblems.length === 0;
  const latest = scan.checkpoints.at(-1)?.checkpoint;
  const witnessed = own ? 'the witnesses' : witnessFile ? 'the given witness' : undefined;
  const pinning = scan.keyPinned ? ' (pinned)' : ' (from the log directory, not pinned)';
  const lines = [
    `audit log ${dir}: ${scan.entries} entries, ${scan.checkpointCount} checkpoints${latest ? `, latest ${checkpointSummary(latest)}` : ''}`,
    `checkpoint key: ${scan.key?.kid ?? 'none'}${pinning}`,
    ...(scan.retiredBefore
      ? [
          `retired: entries 0..${scan.retiredBefore - 1} (signed ${RETIRED_FILE}); the log begins at entry ${scan.retiredBefore}`,
        ]
      : []),
    ...verdict(scan, witnessProblems, witnessed),
  ];
  if (!witnessed)
    lines.push(
      ctx.config
        ? 'note: no witness checked (not the log of --config; verify it with its own configuration)'
        : 'note: no witness checked (--config or --witness FILE): a log cut back to an earlier checkpoint cannot be told from a shorter one',
    );
  for (const warning of scan.warnings)
    if (!warning.includes('not yet covered by a signature')) lines.push(`warning: ${warning}`);
  const report = {
    ok,
    log: log.name,
    dir,
    entries: scan.entries,
    retired_before: scan.retiredBefore ?? 0,
    checkpoints: scan.checkpointCount,
    latest: latest ?? null,
    key: scan.key?.kid ?? null,
    key_pinned: scan.keyPinned,
    first_bad: scan.problems[0] ?? null,
    problems: scan.problems,
    witness_problems: witnessProblems,
    witness_checked: witnessed !== undefined,
    uncheckpointed: scan.tail,
    unauthenticated: scan.tailAuthenticated ? 0 : scan.tail,
    more_problems: scan.moreProblems,
    warnings: scan.warnings,
  };
  return { ok, lines, report };
}

/** Every log of the set, each reported on its own; one log prints as it always has. */
async function verify(ctx: AuditContext, witnessFile: string | undefined): Promise<number> {
  const logs = logSet(ctx);
  if (witnessFile && logs.length > 1) throw new UsageError('--witness FILE checks one log; give a single DIR');
  const verdicts: LogVerdict[] = [];
  // --config speaks for a single log given, and in a set for its own log (audit.dir) and its workers' logs
  for (const log of logs)
    verdicts.push(
      await verifyLog(
        ctx,
        log,
        logs.length === 1 ? (configuredLog(ctx, log) ?? ctx.config) : configuredLog(ctx, log),
        witnessFile,
      ),
    );
  // a worker's log deleted whole is in no directory listing: its witness still names it
  for (const missing of missingLogs(ctx.config, logs, ctx.positionals)) {
    logs.push({ dir: missing.dir, name: missing.name });
    const problem = `its witness ${missing.witness} holds ${missing.holds} but ${missing.dir} holds no log (log deleted; a log retired on purpose takes its witness with it)`;
    verdicts.push({
      ok: false,
      lines: [`audit log ${missing.dir}: missing`, `FAILED: ${problem}`],
      report: { ok: false, log: missing.name, dir: missing.dir, missing: true, witness_problems: [problem] },
    });
  }
  const ok = verdicts.every((v) => v.ok);
  if (verdicts.length === 1) {
    emit(ctx, verdicts[0]!.report, `${verdicts[0]!.lines.join('\n')}\n`);
  } else {
    const failed = logs.filter((_, k) => !verdicts[k]!.ok).map((log) => log.name);
    const text = verdicts.map((v, k) => `== log ${logs[k]!.name}\n${v.lines.join('\n')}\n`).join('');
    const summary = failed.length
      ? `FAILED: ${failed.length} of ${logs.length} logs: ${failed.join(', ')}`
      : `OK: all ${logs.length} logs verify`;
    emit(ctx, { ok, failed, logs: verdicts.map((v) => v.report) }, `${text}${summary}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}

export const verifyCommand = readerCommand({
  name: 'verify',
  synopsis: '[DIR...] [--public-key FILE | --config FILE] [--witness FILE] [options]',
  summary:
    'Checks every entry (form, leaf hash, index sequence, times), the Merkle tree root at every checkpoint,\n' +
    "every checkpoint's form, number, signature and time, segment continuity and torn tails; prints the\n" +
    'first bad position. With --config also the entry MACs, the witnesses and the clock skew of its log.\n' +
    'Several logs are reported one by one. Exit 0 all verified, 1 verification of any failed.',
  help: [['--witness FILE', 'a checkpoint saved earlier (GET /audit/checkpoint): the log\nmust hold it or extend it']],
  options: { witness: { type: 'string' } },
  maxPositionals: Number.POSITIVE_INFINITY,
  run: (ctx, values) => verify(ctx, values.witness),
});

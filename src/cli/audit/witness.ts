// `audit witness --config FILE [--reset] [--log NAME]`: compares each log of the configuration with its
// witnesses (the file and, on Redis, the store): audit.dir's own log and, after `start --workers N`, each
// worker's log below it against that worker's witnesses. --reset writes a log's latest checkpoint to its
// witnesses, after verifying that whole log.
import type { AuditConfig } from '../../audit/config.ts';
import type { Checkpoint } from '../../audit/checkpoint-format.ts';
import { describeProblem, scanLog } from '../../audit/scan.ts';
import { checkWitnesses, witnessLine } from '../../audit/witness.ts';
import { EXIT_FAILED, EXIT_OK, emit, UsageError } from '../command.ts';
import { type AuditContext, auditCommand, checkpointSummary, pinnedKey, requireConfig } from './context.ts';
import { chosenLog, configuredLog, LOG_OPTION_HELP, type LogRef, logSet } from './log-set.ts';
import { missingLogs } from './missing-logs.ts';
import { configuredWitnesses, entryMac } from './witness-checks.ts';

interface Outcome {
  ok: boolean;
  text: string;
  report: Record<string, unknown>;
}

type Key = NonNullable<Awaited<ReturnType<typeof pinnedKey>>>;

/** One log against its own witnesses; with `reset`, its latest checkpoint written to them once it verifies. */
async function witnessLog(ctx: AuditContext, own: AuditConfig, key: Key, reset: boolean): Promise<Outcome> {
  const scan = await scanLog(own.dir, { key, signatures: 'all', mac: entryMac({ ...ctx, config: own }) });
  const latest: Checkpoint | undefined = scan.checkpoints.at(-1)?.checkpoint;
  const { witnesses, close } = configuredWitnesses(own, ctx.storeConfig, key.kid);
  const names = witnesses.map((w) => w.name);
  try {
    const problems = await checkWitnesses(witnesses, scan, key);
    if (!reset) {
      // agreeing with its witnesses says nothing of a log that does not verify
      const broken = scan.problems[0]
        ? `FAILED: the log fails verification (${describeProblem(scan.problems[0])}); "audit verify --config" says more\n`
        : '';
      const ok = problems.length === 0 && !broken;
      const text = problems.length
        ? `${problems.map((problem) => `DIFFERS: ${problem}\n`).join('')}${broken}`
        : `${broken}${broken ? '' : `OK: ${names.join(', ')} ${names.length === 1 ? 'agrees' : 'agree'} with the log\n`}`;
      return { ok, text, report: { ok, witnesses: names, problems, verification_problems: scan.problems } };
    }
    if (scan.problems.length)
      return {
        ok: false,
        text: `REFUSED: the log fails verification (${describeProblem(scan.problems[0]!)}); a witness is only reset to a log that verifies\n`,
        report: { ok: false, error: 'the log fails verification', problems: scan.problems },
      };
    if (!latest)
      return {
        ok: false,
        text: 'REFUSED: the log has no checkpoint yet; the gateway writes the witness at its first checkpoint\n',
        report: { ok: false, error: 'no checkpoint yet' },
      };
    for (const w of witnesses) await w.write(witnessLine(latest));
    return {
      ok: true,
      text: `${problems.map((problem) => `was: ${problem}\n`).join('')}witnesses ${names.join(', ')} now hold ${checkpointSummary(latest)}\n`,
      report: { ok: true, witnesses: names, checkpoint: latest, replaced: problems },
    };
  } finally {
    await close();
  }
}

async function witness(ctx: AuditContext, reset: boolean, wanted: string | undefined): Promise<number> {
  const config = requireConfig(ctx, 'witness', 'the witnesses and keys it names');
  const key = await pinnedKey(ctx);
  if (!key) throw new UsageError('witness needs the checkpoint key (--config)');
  // audit.dir: its own log and its workers' logs below it, each with its own witnesses; a reset writes one
  // log's witnesses only (--log when there are several), so a witness of another log that was cut back
  // keeps what it holds
  const chosen = wanted !== undefined || reset ? [chosenLog(ctx, wanted)] : logSet(ctx);
  // a log beside the workers' logs (one renamed aside) has no witnesses of --config: it is left out
  const logs: LogRef[] = chosen.filter((log) => configuredLog(ctx, log));
  if (!logs.length) throw new UsageError(`${chosen[0]!.dir} is not audit.dir or a worker's log of --config`);
  const outcomes: Outcome[] = [];
  for (const log of logs) outcomes.push(await witnessLog(ctx, configuredLog(ctx, log)!, key, reset));
  // a log deleted whole is in no listing: its witness still names it, and no reset brings it back
  if (wanted === undefined && !reset)
    for (const missing of missingLogs(config, logs, [])) {
      logs.push({ dir: missing.dir, name: missing.name });
      const problem = `${missing.witness} holds ${missing.holds} but ${missing.dir} holds no log (log deleted; a log retired on purpose takes its witness with it)`;
      outcomes.push({
        ok: false,
        text: `DIFFERS: ${problem}\n`,
        report: { ok: false, missing: true, problems: [problem] },
      });
    }
  const ok = outcomes.every((o) => o.ok);
  if (outcomes.length === 1) emit(ctx, outcomes[0]!.report, outcomes[0]!.text);
  else {
    const failed = logs.filter((_, k) => !outcomes[k]!.ok).map((log) => log.name);
    const text = outcomes.map((o, k) => `== log ${logs[k]!.name}\n${o.text}`).join('');
    // several logs: a comparison (a reset writes one log's witnesses)
    const summary = failed.length
      ? `DIFFERS: ${failed.length} of ${logs.length} logs: ${failed.join(', ')}`
      : `OK: all ${logs.length} logs agree with their witnesses`;
    const reports = outcomes.map((o, k) => ({ log: logs[k]!.name, dir: logs[k]!.dir, ...o.report }));
    emit(ctx, { ok, failed, logs: reports }, `${text}${summary}\n`);
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}

export const witnessCommand = auditCommand({
  name: 'witness',
  synopsis: '--config FILE [--reset] [--log NAME] [options]',
  summary:
    "Compares each log of the configuration (audit.dir, and its workers' logs after start --workers N) with\n" +
    'its witnesses (the witness file and, when the store is Redis, the store). Exit 0 when they agree, 1 when\n' +
    'one differs, a log does not verify or a log its witness names is gone. --reset verifies a whole log\n' +
    '(signatures, MACs) and only then writes its latest checkpoint to its witnesses (a witness lost, or\n' +
    'configured later); with several logs, name the one with --log.',
  help: [['--reset', "write the log's latest checkpoint to its witnesses"], LOG_OPTION_HELP],
  options: { reset: { type: 'boolean' }, log: { type: 'string' } },
  maxPositionals: 0,
  run: (ctx, values) => witness(ctx, values.reset === true, typeof values.log === 'string' ? values.log : undefined),
});

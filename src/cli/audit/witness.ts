// `audit witness --config FILE [--reset]`: compares the log with its witnesses (the file and, on Redis,
// the store); --reset writes the log's latest checkpoint to them, after verifying the whole log.
import { describeProblem, scanLog } from '../../audit/scan.ts';
import { checkWitnesses, witnessLine } from '../../audit/witness.ts';
import { EXIT_FAILED, EXIT_OK, emit, UsageError } from '../command.ts';
import { type AuditContext, auditCommand, checkpointSummary, pinnedKey, requireConfig } from './context.ts';
import { configuredWitnesses, entryMac } from './witness-checks.ts';

async function witness(ctx: AuditContext, reset: boolean): Promise<number> {
  const config = requireConfig(ctx, 'witness', 'the witnesses and keys it names');
  const key = await pinnedKey(ctx);
  if (!key) throw new UsageError('witness needs the checkpoint key (--config)');
  const scan = await scanLog(config.dir, { key, signatures: 'all', mac: entryMac(ctx) });
  const checkpoints = scan.checkpoints.map((located) => located.checkpoint);
  const latest = checkpoints.at(-1);
  const { witnesses, close } = configuredWitnesses(config, ctx.storeConfig, key.kid);
  const names = witnesses.map((w) => w.name);
  try {
    const problems = await checkWitnesses(witnesses, checkpoints, key);
    if (!reset) {
      const text = problems.length
        ? problems.map((problem) => `DIFFERS: ${problem}\n`).join('')
        : `OK: ${names.join(', ')} agree with the log\n`;
      emit(ctx, { ok: problems.length === 0, witnesses: names, problems }, text);
      return problems.length ? EXIT_FAILED : EXIT_OK;
    }
    if (scan.problems.length) {
      emit(
        ctx,
        { ok: false, error: 'the log fails verification', problems: scan.problems },
        `REFUSED: the log fails verification (${describeProblem(scan.problems[0]!)}); a witness is only reset to a log that verifies\n`,
      );
      return EXIT_FAILED;
    }
    if (!latest) {
      emit(
        ctx,
        { ok: false, error: 'no checkpoint yet' },
        'REFUSED: the log has no checkpoint yet; the gateway writes the witness at its first checkpoint\n',
      );
      return EXIT_FAILED;
    }
    for (const w of witnesses) await w.write(witnessLine(latest));
    emit(
      ctx,
      { ok: true, witnesses: names, checkpoint: latest, replaced: problems },
      `${problems.map((problem) => `was: ${problem}\n`).join('')}witnesses ${names.join(', ')} now hold ${checkpointSummary(latest)}\n`,
    );
    return EXIT_OK;
  } finally {
    await close();
  }
}

export const witnessCommand = auditCommand({
  name: 'witness',
  synopsis: '--config FILE [--reset] [options]',
  summary:
    'Compares the log with its witnesses (the witness file and, when the store is Redis, the store).\n' +
    'Exit 0 when they agree, 1 when one differs. --reset verifies the whole log (signatures, MACs) and only\n' +
    'then writes its latest checkpoint to every witness (a witness lost, or configured later).',
  help: [['--reset', "write the log's latest checkpoint to every witness"]],
  options: { reset: { type: 'boolean' } },
  maxPositionals: 0,
  run: (ctx, values) => witness(ctx, values.reset === true),
});

// `audit repair --config FILE`: moves a torn tail (a write interrupted by a crash, never acknowledged)
// aside into torn/ and records that in the log as audit_log_repaired. Any other damage refuses it.
import { openAuditLog } from '../../audit/config.ts';
import { describeProblem, scanLog } from '../../audit/scan.ts';
import { createLogger } from '../../logger.ts';
import { EXIT_FAILED, EXIT_OK, emit } from '../command.ts';
import { type AuditContext, auditCommand, pinnedKey, requireConfig } from './context.ts';

async function repair(ctx: AuditContext): Promise<number> {
  const config = requireConfig(ctx, 'repair', 'it writes to the log with the configured keys');
  const dir = config.dir;
  const before = await scanLog(dir, { key: await pinnedKey(ctx), signatures: 'latest' });
  const damage = before.problems.filter((problem) => problem.kind !== 'torn');
  if (damage.length) {
    emit(
      ctx,
      { ok: false, error: 'the log has damage other than a torn tail', problems: damage },
      `REFUSED: the log has damage other than a torn tail, which a repair must not hide: ${describeProblem(damage[0]!)}\n`,
    );
    return EXIT_FAILED;
  }
  if (before.torn.length === 0) {
    emit(ctx, { ok: true, repaired: [] }, `nothing to repair: ${dir} has no torn tail\n`);
    return EXIT_OK;
  }
  const logger = createLogger('warn', (line) => ctx.io.stderr(`${line}\n`));
  const log = await openAuditLog(config, logger, { tornTail: 'repair' });
  await log.close();
  const repaired = log.repaired.map(({ movedTo, digest: _digest, ...torn }) => ({ ...torn, moved_to: movedTo }));
  const text = repaired.map(
    (torn) =>
      `moved ${torn.length} torn bytes of ${torn.file} (line ${torn.line}, byte ${torn.offset}) to ${dir}/${torn.moved_to}; recorded as audit_log_repaired\n`,
  );
  emit(ctx, { ok: true, repaired }, text.join(''));
  return EXIT_OK;
}

export const repairCommand = auditCommand({
  name: 'repair',
  synopsis: '--config FILE [options]',
  summary:
    'Moves a torn tail (an interrupted write) of the configured audit directory to torn/<file>.<offset>.torn\n' +
    '(<file>.<offset>.<k>.torn when that name is taken; no copy is replaced),\n' +
    'cuts the file back to where the tail begins and records an audit_log_repaired event.\n' +
    'Exit 1 (refused) when the log has any damage other than a torn tail.',
  options: {},
  maxPositionals: 0,
  run: (ctx) => repair(ctx),
});

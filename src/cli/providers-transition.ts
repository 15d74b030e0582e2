// `providers transition ID STAGE --reason ...`: one move in the VPM joining process. The record file is
// rewritten in one step, published to a shared (Redis) store so every instance applies it within
// `registry.poll_seconds`, and recorded in the audit log: here when no gateway holds the log, else by the
// instance that applies it. Nothing is written when the move is not legal or its preconditions fail.
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { openAuditLog } from '../audit/config.ts';
import type { AuditLog } from '../audit/events.ts';
import { WRITER_LOCK_FILE } from '../audit/format.ts';
import { createLogger } from '../logger.ts';
import { writeRecord } from '../onboarding/files.ts';
import { changeDetail, claimAudit, publishRecord } from '../onboarding/live.ts';
import { transition, TransitionError, type TransitionTarget } from '../onboarding/process.ts';
import { RECORD_STAGES, REFUSAL_REASONS, type RefusalReason } from '../onboarding/record.ts';
import { RedisStore } from '../store/redis.ts';
import type { Store } from '../store/store.ts';
import { emit, EXIT_FAILED, EXIT_OK, UsageError } from './command.ts';
import { printProblems, providersCommand, recordOf } from './providers-context.ts';
import { transitionContext } from './providers-view.ts';

function target(value: string | undefined): TransitionTarget {
  if (value === undefined) throw new UsageError('the stage to move to is missing');
  if (value === 'resume' || (RECORD_STAGES as readonly string[]).includes(value)) return value as TransitionTarget;
  throw new UsageError(`${JSON.stringify(value)} is not a stage (${RECORD_STAGES.join(', ')}, resume)`);
}

function refusalReasons(values: string[] | undefined): RefusalReason[] {
  for (const value of values ?? [])
    if (!(REFUSAL_REASONS as readonly string[]).includes(value))
      throw new UsageError(`--refusal-reason ${JSON.stringify(value)} is not one of ${REFUSAL_REASONS.join(', ')}`);
  return (values ?? []) as RefusalReason[];
}

export const transitionCommand = providersCommand({
  name: 'transition',
  synopsis: 'ID STAGE --reason TEXT [options]',
  summary:
    'Moves a provider to STAGE (application, review, agreement_drafting, signing, development, testing,\n' +
    'production, refused, suspended) or resumes a suspended one (STAGE resume). Exit 1, nothing written,\n' +
    'when the move is not legal or the stage needs what the provider lacks.',
  help: [
    ['--reason TEXT', 'why (required)'],
    ['--by NAME', 'who decides (default: the user running the command)'],
    ['--evidence REF', 'a document, ticket or report backing it (repeatable)'],
    ['--refusal-reason R', `refused: ${REFUSAL_REASONS.join(', ')} (repeatable)`],
    ['--refusal-other TEXT', 'refused for another, stated reason'],
  ],
  options: {
    reason: { type: 'string' },
    by: { type: 'string' },
    evidence: { type: 'string', multiple: true },
    'refusal-reason': { type: 'string', multiple: true },
    'refusal-other': { type: 'string' },
  },
  maxPositionals: 2,
  async run(ctx) {
    const { values, config, io } = ctx;
    const record = recordOf(ctx, ctx.positionals[0]);
    const to = target(ctx.positionals[1]);
    if (values.reason === undefined) throw new UsageError('--reason is required');
    if (ctx.problems.length) {
      printProblems(io, ctx.problems);
      return EXIT_FAILED;
    }
    const request = {
      to,
      by: values.by ?? userInfo().username,
      reason: values.reason,
      evidence: values.evidence ?? [],
      refusalReasons: refusalReasons(values['refusal-reason']),
      refusalOther: values['refusal-other'],
    };
    let next: ReturnType<typeof transition>;
    try {
      next = transition(record, request, transitionContext(ctx));
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
      emit(ctx, { ok: false, id: record.id, problems: err.problems }, '');
      if (!ctx.json) io.stderr(`${record.id}: not moved\n${err.problems.map((p) => `  ${p}\n`).join('')}`);
      return EXIT_FAILED;
    }
    // fail closed: the change is written only once it is sure to be audited (by us, or by the running
    // gateway that holds the log and applies it)
    const logger = createLogger('warn', (line) => io.stderr(`${line}\n`));
    const held = existsSync(join(config.audit.dir, WRITER_LOCK_FILE));
    const audit: AuditLog | undefined = held ? undefined : await openAuditLog(config.audit, logger);
    const store: Store | undefined =
      config.store.type === 'redis'
        ? new RedisStore({ url: config.store.url, prefix: config.store.prefix })
        : undefined;
    try {
      const path = writeRecord(config.registry!.dir, next);
      if (store) await publishRecord(store, next);
      if (audit && (!store || (await claimAudit(store, next))))
        await audit.record({ type: 'registry_change', providerId: next.adapter, detail: changeDetail(next, record) });
      const detail = changeDetail(next, record);
      const audited = audit ? 'recorded in the audit log' : 'the running gateway records it in its audit log';
      emit(
        ctx,
        { ok: true, id: next.id, path, ...detail, audited: audit ? 'here' : 'by the running gateway' },
        `${next.id}: ${detail.from} -> ${detail.stage} (revision ${next.revision}), written to ${path}; ${audited}\n`,
      );
      return EXIT_OK;
    } finally {
      await audit?.close();
      await store?.close();
    }
  },
});

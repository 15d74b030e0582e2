// `providers transition ID STAGE --reason ...`: one move in the VPM joining process, saved and audited as
// ./providers-save.ts says (every instance applies it within `registry.poll_seconds`). Nothing is written
// when the move is not legal or its preconditions fail.
import { userInfo } from 'node:os';
import { transition, TransitionError, type TransitionTarget } from '../onboarding/process.ts';
import { RecordWriteError } from '../onboarding/record-update.ts';
import { RECORD_STAGES, REFUSAL_REASONS, type RefusalReason } from '../onboarding/record.ts';
import { emit, EXIT_FAILED, EXIT_OK, UsageError } from './command.ts';
import { printProblems, providersCommand, recordOf } from './providers-context.ts';
import { type Saved, saveRecord } from './providers-save.ts';
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
    'when the move is not legal, the stage needs what the provider lacks, or the record changed meanwhile.',
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
      // taking a provider off must never wait for another record's file to be put right
      if (to !== 'suspended' && to !== 'refused') return EXIT_FAILED;
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
    let saved: Saved;
    try {
      saved = await saveRecord(config, record.id, () => next, io, record.revision);
    } catch (err) {
      if (!(err instanceof RecordWriteError)) throw err;
      emit(ctx, { ok: false, id: record.id, problems: [err.message] }, '');
      if (!ctx.json) io.stderr(`${record.id}: not moved\n  ${err.message}\n`);
      return EXIT_FAILED;
    }
    const audited =
      saved.audited === 'here'
        ? 'recorded in the audit log'
        : `the running gateway (${saved.holder}) records it in its audit log`;
    emit(
      ctx,
      { ok: true, id: next.id, path: saved.path, ...saved.detail, audited: saved.audited },
      `${next.id}: ${saved.detail.from} -> ${saved.detail.stage} (revision ${saved.next.revision}), written to ${saved.path}; ${audited}\n`,
    );
    return EXIT_OK;
  },
});

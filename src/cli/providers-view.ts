// `providers list`, `providers show ID`, `providers check ID`: the registry as the agency reads it.
import type { GatewayConfig } from '../config/load.ts';
import { ONBOARDING_STAGES, type OnboardingStage } from '../config/provider-base.ts';
import { preconditionProblems, STAY, type TransitionContext } from '../onboarding/process.ts';
import { currentStage, type RegistryRecord } from '../onboarding/record.ts';
import { registryDir } from '../onboarding/config.ts';
import { recordPath } from '../onboarding/files.ts';
import { recordStanding } from '../onboarding/standing.ts';
import { unmetTerms } from '../onboarding/terms.ts';
import { emit, EXIT_FAILED, EXIT_OK } from './command.ts';
import { printProblems, providersCommand, recordOf, standingsOf } from './providers-context.ts';

export const list = providersCommand({
  name: 'list',
  synopsis: '[options]',
  summary: "Every provider's stage in the VPM joining process and who it is offered to (all, test services, nobody).",
  options: {},
  maxPositionals: 0,
  async run(ctx) {
    const rows = standingsOf(ctx).map((s) => ({
      id: s.record ?? s.provider,
      adapter: s.provider || null,
      stage: s.stage,
      revision: s.revision,
      offered_to: s.audience,
      unmet: s.unmet,
    }));
    const text = rows
      .map(
        (r) =>
          `${r.id.padEnd(24)} ${r.stage.padEnd(20)} offered to ${r.offered_to.padEnd(5)} adapter ${r.adapter ?? '-'}\n`,
      )
      .join('');
    emit(ctx, { providers: rows, problems: ctx.problems }, text);
    printProblems(ctx.io, ctx.problems);
    return ctx.problems.length ? EXIT_FAILED : EXIT_OK;
  },
});

/** The licence or register entry as the joining conditions judge it: which, until when, qualified or not. */
function licenceLine(licence: RegistryRecord['licence']): string {
  if (!licence) return '-';
  const qualified = licence.qualified === undefined ? '' : licence.qualified ? ', qualified' : ', NOT qualified';
  const until = licence.valid_until ? `valid until ${licence.valid_until}` : 'no end date';
  return `${licence.register} ${licence.entry}${qualified}, ${until}; checked ${licence.checked_at} by ${licence.checked_by}`;
}

function describe(record: RegistryRecord): string {
  const lines = [
    `${record.id}: ${record.name} (${record.legal_kind}), revision ${record.revision}`,
    `  stage        ${currentStage(record)}`,
    `  adapter      ${record.adapter ?? '-'}`,
    `  licence      ${licenceLine(record.licence)}`,
    `  free         ${record.free_of_charge.declared ? 'declared free of charge' : 'NOT declared free of charge'}${record.free_of_charge.evidence ? ` (${record.free_of_charge.evidence})` : ''}`,
    `  two-factor   ${record.two_factor ? 'online two-factor authentication' : 'NO online two-factor authentication'}`,
    `  contacts     ${record.contacts.map((c) => `${c.name} <${c.email}> (${c.role})`).join(', ')}`,
    `  probe        ${record.probe ? `${record.probe.ok ? 'passed' : 'FAILED'} at ${record.probe.at}` : '-'}`,
    `  test login   ${record.test_login ? `${record.test_login.ok ? 'passed' : 'FAILED'} at ${record.test_login.at}` : '-'}`,
    '  history',
    ...record.history.flatMap((h) => [
      `    ${h.at} ${h.stage.padEnd(18)} by ${h.by}: ${h.reason}${h.refusal_reasons ? ` [${h.refusal_reasons.join(', ')}]` : ''}${h.refusal_other ? ` [${h.refusal_other}]` : ''}`,
      ...h.evidence.map((e) => `      evidence: ${e}`),
    ]),
  ];
  return `${lines.join('\n')}\n`;
}

export const show = providersCommand({
  name: 'show',
  synopsis: 'ID [options]',
  summary: "One provider's record: legal kind, licence check, contacts, stage, full history and reports.",
  options: {},
  maxPositionals: 1,
  async run(ctx) {
    const record = recordOf(ctx, ctx.positionals[0]);
    emit(ctx, record, describe(record));
    return EXIT_OK;
  },
});

export function transitionContext(ctx: { config: GatewayConfig }, now?: Date): TransitionContext {
  return {
    adapters: new Set(ctx.config.providers.map((p) => p.config.id)),
    testLoginMaxAgeDays: ctx.config.registry?.test_login_max_age_days ?? 30,
    now,
  };
}

export const check = providersCommand({
  name: 'check',
  synopsis: 'ID [options]',
  summary:
    'Checks a provider against the joining conditions: what its current stage needs, and what the next\n' +
    'stage would need. Exit 1 when the current stage no longer holds or its record has a problem (a stage\n' +
    'reached by a move the process does not make, or without the probe or test login it needed).',
  options: {},
  maxPositionals: 1,
  async run(ctx) {
    const record = recordOf(ctx, ctx.positionals[0]);
    const stage = currentStage(record);
    const process = transitionContext(ctx);
    const known = (ONBOARDING_STAGES as readonly string[]).includes(stage);
    // the record's own problems (a stage reached without its gates, an illegal move) come first
    const file = `${recordPath(registryDir(ctx.config), record.id)}: `;
    const own = ctx.problems.filter((p) => p.startsWith(file)).map((p) => p.slice(file.length));
    const current = [
      ...own,
      ...(known ? preconditionProblems(record, stage as OnboardingStage, process, STAY) : unmetTerms(record)),
    ];
    const nextStage = known ? ONBOARDING_STAGES[ONBOARDING_STAGES.indexOf(stage as OnboardingStage) + 1] : undefined;
    const next = nextStage ? { stage: nextStage, problems: preconditionProblems(record, nextStage, process) } : null;
    const standing = recordStanding(record, record.adapter ?? '');
    const ok = current.length === 0;
    const doc = { id: record.id, stage, ok, offered_to: standing.audience, problems: current, next };
    const text =
      `${record.id}: ${stage}, ${ok ? 'conditions hold' : 'conditions do NOT hold'}, offered to ${standing.audience}\n` +
      current.map((p) => `  ${p}\n`).join('') +
      (next
        ? `next: ${next.stage}${next.problems.length ? '' : ' (ready)'}\n${next.problems.map((p) => `  ${p}\n`).join('')}`
        : '');
    emit(ctx, doc, text);
    return ok ? EXIT_OK : EXIT_FAILED;
  },
});

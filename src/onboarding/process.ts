// The seven-stage VPM joining process as a state machine: one stage forward at a time, testing back to
// development when a test fails, `refused` (terminal) from any open stage with one or more of the usual
// reasons or a stated other one, and `suspended` from any stage once the agreement is being drafted,
// resumed to the stage it left. Each move's preconditions come from the joining conditions: the terms
// from agreement drafting on, a configured adapter with a passing security probe for testing, and a
// recent successful test login for production.
import { ONBOARDING_STAGES, type OnboardingStage } from '../config/provider-base.ts';
import {
  currentStage,
  type HistoryEntry,
  type RecordStage,
  type RefusalReason,
  type RegistryRecord,
  stageBeforeSuspension,
} from './record.ts';
import { unmetTerms } from './terms.ts';

/** What an operator asks for: a stage, or `resume` (back to the stage before the suspension). */
export type TransitionTarget = RecordStage | 'resume';

export interface TransitionRequest {
  to: TransitionTarget;
  by: string;
  reason: string;
  evidence?: string[];
  refusalReasons?: RefusalReason[];
  refusalOther?: string;
}

export interface TransitionContext {
  /** ids of the configured `providers[]` entries */
  adapters: ReadonlySet<string>;
  /** the longest a test login may be behind a move to production */
  testLoginMaxAgeDays: number;
  now?: Date;
}

export class TransitionError extends Error {
  override name = 'TransitionError';
  readonly problems: string[];
  constructor(id: string, problems: string[]) {
    super(`provider ${id}: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

const order = (stage: OnboardingStage) => ONBOARDING_STAGES.indexOf(stage);
const FIRST_SUSPENDABLE = order('agreement_drafting');

/** Whether the process allows moving from one stage to another (preconditions aside). */
export function isLegalMove(from: RecordStage, to: RecordStage): boolean {
  if (from === 'refused' || from === to) return false;
  if (to === 'refused') return true; // from any open stage: a licence can be withdrawn during a suspension
  if (from === 'suspended') return false; // else only `resume` leaves a suspension
  if (to === 'suspended') return order(from) >= FIRST_SUSPENDABLE;
  if (from === 'testing' && to === 'development') return true;
  return order(to) === order(from) + 1;
}

/** Which entry gates a check includes: a move checks both; a resumption the probe only (a provider
 * suspended for long could otherwise never come back, a test login needs the testing stage); whether a
 * provider still meets its current stage neither. */
export interface Gates {
  probe: boolean;
  testLogin: boolean;
}

export const MOVE: Gates = { probe: true, testLogin: true };
export const RESUME: Gates = { probe: true, testLogin: false };
export const STAY: Gates = { probe: false, testLogin: false };

/** Why the provider may not be at `stage` (empty when it may). */
export function preconditionProblems(
  record: RegistryRecord,
  stage: OnboardingStage,
  ctx: TransitionContext,
  gates: Gates = MOVE,
): string[] {
  const now = ctx.now ?? new Date();
  const problems: string[] = [];
  if (order(stage) >= FIRST_SUSPENDABLE) problems.push(...unmetTerms(record, now));
  if (order(stage) >= order('testing')) {
    if (!record.adapter) problems.push('adapter: testing needs the adapter entry this provider uses');
    else if (!ctx.adapters.has(record.adapter))
      problems.push(`adapter: no providers[] entry ${JSON.stringify(record.adapter)} is configured`);
    if (gates.probe && !record.probe?.ok)
      problems.push(`probe: ${stage} needs a passing security probe (vpm-gateway providers probe)`);
  }
  if (stage === 'production' && gates.testLogin) {
    const login = record.test_login;
    const oldest = now.getTime() - ctx.testLoginMaxAgeDays * 86_400_000;
    if (!login?.ok) problems.push('test_login: production needs a successful test login');
    else if (Date.parse(login.at) < oldest)
      problems.push(`test_login.at: ${login.at} is older than ${ctx.testLoginMaxAgeDays} days`);
  }
  return problems;
}

/** The record after the move, one revision on; throws TransitionError saying every reason it may not. */
export function transition(record: RegistryRecord, request: TransitionRequest, ctx: TransitionContext): RegistryRecord {
  const from = currentStage(record);
  const problems: string[] = [];
  let to: RecordStage;
  if (request.to === 'resume') {
    const back = from === 'suspended' ? stageBeforeSuspension(record) : undefined;
    if (!back) throw new TransitionError(record.id, [`only a suspended provider can be resumed (stage is ${from})`]);
    to = back;
    problems.push(...preconditionProblems(record, back, ctx, RESUME));
  } else {
    to = request.to;
    if (!isLegalMove(from, to)) throw new TransitionError(record.id, [`${from} -> ${to} is not a legal move`]);
    if (to !== 'refused' && to !== 'suspended') problems.push(...preconditionProblems(record, to, ctx));
  }
  const refusing = to === 'refused';
  if (refusing && !request.refusalReasons?.length && !request.refusalOther)
    problems.push('a refusal needs one or more of the usual reasons or a stated other one');
  if (!refusing && (request.refusalReasons?.length || request.refusalOther))
    problems.push('refusal reasons are given only when refusing');
  if (!request.reason.trim()) problems.push('a reason is required');
  if (!request.by.trim()) problems.push('who makes the change is required');
  if (problems.length) throw new TransitionError(record.id, problems);
  const entry: HistoryEntry = {
    stage: to,
    at: (ctx.now ?? new Date()).toISOString(),
    by: request.by,
    reason: request.reason,
    evidence: request.evidence ?? [],
    ...(refusing && request.refusalReasons?.length ? { refusal_reasons: request.refusalReasons } : {}),
    ...(refusing && request.refusalOther ? { refusal_other: request.refusalOther } : {}),
  };
  return { ...record, revision: record.revision + 1, history: [...record.history, entry] };
}

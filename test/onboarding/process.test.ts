// The joining process's state machine: every legal move and a refusal of every illegal one, each usual
// refusal reason, and each stage's preconditions (terms, adapter and probe, recent test login).
import { ONBOARDING_STAGES } from '../../src/config/provider-base.ts';
import {
  isLegalMove,
  transition,
  TransitionError,
  type TransitionContext,
  type TransitionRequest,
} from '../../src/onboarding/process.ts';
import { currentStage, RECORD_STAGES, REFUSAL_REASONS, type RegistryRecord } from '../../src/onboarding/record.ts';
import { record } from './fixtures.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const ctx: TransitionContext = { adapters: new Set(['bank-a', 'eid-a']), testLoginMaxAgeDays: 30, now: NOW };
const probed = { probe: { at: '2026-05-30T00:00:00Z', ok: true, report: {} } };
const tested = { test_login: { at: '2026-05-20T00:00:00Z', ok: true, report: {} } };

function move(r: RegistryRecord, to: TransitionRequest['to'], extra: Partial<TransitionRequest> = {}) {
  return transition(r, { to, by: 'Reviewer', reason: 'decided', ...extra }, ctx);
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof TransitionError) return err.problems;
    throw err;
  }
  throw new Error('the move was allowed');
}

describe('legal moves', () => {
  // every (from, to) pair the process has, judged against the joining conditions' seven stages
  const expected = (from: string, to: string): boolean => {
    if (from === to || from === 'refused') return false;
    if (to === 'refused') return true; // from any open stage, a suspension included
    if (from === 'suspended') return false;
    const i = ONBOARDING_STAGES.indexOf(from as never);
    const j = ONBOARDING_STAGES.indexOf(to as never);
    if (to === 'suspended') return i >= 2;
    return j === i + 1 || (from === 'testing' && to === 'development');
  };
  for (const from of RECORD_STAGES)
    for (const to of RECORD_STAGES)
      test(`${from} -> ${to}: ${expected(from, to) ? 'legal' : 'illegal'}`, () => {
        expect(isLegalMove(from, to)).toBe(expected(from, to));
      });

  test('a suspended provider whose licence is withdrawn is refused from the suspension', () => {
    const suspended = move(record('bank-a', 'production'), 'suspended');
    const closed = move(suspended, 'refused', { refusalReasons: ['not_licensed'] });
    expect(closed.history.slice(-2).map((h) => h.stage)).toEqual(['suspended', 'refused']);
    expect(problems(() => move(closed, 'resume'))).toEqual([
      'only a suspended provider can be resumed (stage is refused)',
    ]);
  });

  test('an illegal move is refused and the record is unchanged', () => {
    const r = record('bank-a', 'review');
    expect(problems(() => move(r, 'signing'))).toEqual(['review -> signing is not a legal move']);
    expect(problems(() => move(r, 'application'))).toEqual(['review -> application is not a legal move']);
    expect(currentStage(r)).toBe('review');
    expect(r.revision).toBe(2);
  });

  test('the whole process forward, each move in the history with who, when, why and evidence', () => {
    let r = record('bank-a', 'application');
    for (const stage of ONBOARDING_STAGES.slice(1)) {
      if (stage === 'testing') r = { ...r, ...probed };
      if (stage === 'production') r = { ...r, ...tested };
      r = move(r, stage, { evidence: [`doc-${stage}`] });
    }
    expect(currentStage(r)).toBe('production');
    expect(r.revision).toBe(7);
    expect(r.history.map((h) => h.stage)).toEqual([...ONBOARDING_STAGES]);
    expect(r.history.at(-1)).toEqual({
      stage: 'production',
      at: NOW.toISOString(),
      by: 'Reviewer',
      reason: 'decided',
      evidence: ['doc-production'],
    });
  });

  test('a failed test goes back to development', () => {
    expect(currentStage(move(record('bank-a', 'testing', probed), 'development'))).toBe('development');
  });
});

describe('refusal', () => {
  for (const reason of REFUSAL_REASONS)
    test(`refused for ${reason}`, () => {
      const r = move(record('bank-a', 'review'), 'refused', { refusalReasons: [reason] });
      expect(r.history.at(-1)).toMatchObject({ stage: 'refused', refusal_reasons: [reason] });
      expect(problems(() => move(r, 'review'))).toEqual(['refused -> review is not a legal move']);
      expect(problems(() => move(r, 'resume'))).toEqual([
        'only a suspended provider can be resumed (stage is refused)',
      ]);
    });

  test('several usual reasons at once, or a stated other one', () => {
    const both = move(record('eid-a', 'application'), 'refused', {
      refusalReasons: ['not_qualified_eid_provider', 'security_levels_not_met'],
    });
    expect(both.history.at(-1)?.refusal_reasons).toEqual(['not_qualified_eid_provider', 'security_levels_not_met']);
    const other = move(record('eid-a', 'signing'), 'refused', { refusalOther: 'the agreement was not signed in time' });
    expect(other.history.at(-1)).toMatchObject({ refusal_other: 'the agreement was not signed in time' });
  });

  test('a refusal without a reason, or reasons without a refusal, is refused', () => {
    expect(problems(() => move(record('bank-a', 'review'), 'refused'))).toEqual([
      'a refusal needs one or more of the usual reasons or a stated other one',
    ]);
    expect(
      problems(() => move(record('bank-a', 'review'), 'agreement_drafting', { refusalReasons: ['not_licensed'] })),
    ).toEqual(['refusal reasons are given only when refusing']);
  });
});

describe('preconditions', () => {
  test('agreement drafting needs the joining terms: licence, qualified register entry, free of charge, two-factor', () => {
    const { licence: _, ...unlicensed } = record('bank-a', 'review');
    expect(problems(() => move(unlicensed, 'agreement_drafting'))).toEqual([
      'licence: a bank needs an active credit institution licence',
    ]);
    const eid = record('eid-a', 'review');
    const unqualified = { ...eid, licence: { ...eid.licence!, qualified: false } };
    expect(problems(() => move(unqualified, 'agreement_drafting'))).toEqual([
      'licence.qualified: not a qualified enhanced-security eID provider',
    ]);
    const expired = { ...eid, licence: { ...eid.licence!, valid_until: '2026-05-31' } };
    expect(problems(() => move(expired, 'agreement_drafting'))).toEqual(['licence.valid_until: expired on 2026-05-31']);
    const paid = { ...eid, free_of_charge: { declared: false }, two_factor: false };
    expect(problems(() => move(paid, 'agreement_drafting'))).toEqual([
      'free_of_charge.declared: the service must be free of charge',
      'two_factor: online two-factor authentication is required',
    ]);
  });

  test('testing needs a configured adapter and a passing security probe', () => {
    const dev = record('bank-a', 'development');
    expect(problems(() => move(dev, 'testing'))).toEqual([
      'probe: testing needs a passing security probe (vpm-gateway providers probe)',
    ]);
    expect(problems(() => move({ ...dev, ...probed, adapter: 'nowhere' }, 'testing'))).toEqual([
      'adapter: no providers[] entry "nowhere" is configured',
    ]);
    const failed = { ...dev, probe: { ...probed.probe, ok: false } };
    expect(problems(() => move(failed, 'testing'))).toHaveLength(1);
    expect(currentStage(move({ ...dev, ...probed }, 'testing'))).toBe('testing');
    // a probe that failed since: the move to production is refused, naming that stage
    const lapsed = { ...record('bank-a', 'testing', probed), probe: { ...probed.probe, ok: false } };
    expect(problems(() => move(lapsed, 'production'))).toContain(
      'probe: production needs a passing security probe (vpm-gateway providers probe)',
    );
  });

  test('production needs a successful test login no older than the configured age', () => {
    const testing = record('bank-a', 'testing', probed);
    expect(problems(() => move(testing, 'production'))).toEqual([
      'test_login: production needs a successful test login',
    ]);
    const old = { ...testing, test_login: { at: '2026-04-01T00:00:00Z', ok: true, report: {} } };
    expect(problems(() => move(old, 'production'))).toEqual([
      'test_login.at: 2026-04-01T00:00:00Z is older than 30 days',
    ]);
    const failed = { ...testing, test_login: { ...tested.test_login, ok: false } };
    expect(problems(() => move(failed, 'production'))).toEqual([
      'test_login: production needs a successful test login',
    ]);
    expect(currentStage(move({ ...testing, ...tested }, 'production'))).toBe('production');
  });
});

describe('suspension', () => {
  test('suspended from production and resumed to production, without a new test login', () => {
    const live = record('bank-a', 'production', {
      ...probed,
      test_login: { at: '2025-01-01T00:00:00Z', ok: true, report: {} },
    });
    const suspended = move(live, 'suspended', { reason: 'certificate compromised' });
    expect(currentStage(suspended)).toBe('suspended');
    expect(problems(() => move(suspended, 'production'))).toEqual(['suspended -> production is not a legal move']);
    expect(problems(() => move(suspended, 'suspended'))).toEqual(['suspended -> suspended is not a legal move']);
    const resumed = move(suspended, 'resume', { reason: 'new certificate installed' });
    expect(currentStage(resumed)).toBe('production');
    expect(resumed.history.slice(-2).map((h) => [h.stage, h.reason])).toEqual([
      ['suspended', 'certificate compromised'],
      ['production', 'new certificate installed'],
    ]);
  });

  test('a resumption needs the terms and the probe again; before agreement drafting there is nothing to suspend', () => {
    const suspended = move(record('bank-a', 'testing', probed), 'suspended');
    const lapsed = { ...suspended, probe: { ...probed.probe, ok: false } };
    expect(problems(() => move(lapsed, 'resume'))).toEqual([
      'probe: testing needs a passing security probe (vpm-gateway providers probe)',
    ]);
    expect(problems(() => move(record('bank-a', 'review'), 'suspended'))).toEqual([
      'review -> suspended is not a legal move',
    ]);
    expect(problems(() => move(record('bank-a', 'review'), 'resume'))).toEqual([
      'only a suspended provider can be resumed (stage is review)',
    ]);
  });

  test('a move needs who and why', () => {
    expect(
      problems(() => transition(record('bank-a', 'review'), { to: 'agreement_drafting', by: ' ', reason: '' }, ctx)),
    ).toEqual(['a reason is required', 'who makes the change is required']);
  });
});

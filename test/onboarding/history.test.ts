// A record's history as the gateway reads it at start, at each reload and before each command: the
// process's own moves in time order, not ahead of the clock, each stage reached with the probe or test
// login its move needed. A record written by hand that skips the process is refused, naming the entry.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { historyProblems } from '../../src/onboarding/history.ts';
import { transition, type TransitionRequest } from '../../src/onboarding/process.ts';
import type { RegistryRecord } from '../../src/onboarding/record.ts';
import { SecurityCheckError } from '../../src/tls/security-checks.ts';
import { runCli } from '../support/cli.ts';
import { startGateway } from '../support/gateway.ts';
import { record, REGISTRY_PROVIDERS, writeRegistry } from './fixtures.ts';

const NOW = new Date('2026-03-01T12:00:00Z');
const at = (day: number) => new Date(Date.UTC(2026, 0, 5 + day)).toISOString();

/** `record` with one more history entry, written by hand. */
function plus(base: RegistryRecord, stage: RegistryRecord['history'][number]['stage'], when: string): RegistryRecord {
  const entry = { stage, at: when, by: 'Somebody', reason: 'by hand', evidence: [] };
  return { ...base, revision: base.revision + 1, history: [...base.history, entry] };
}

test('every history the process writes is accepted: forward, back to development, suspended, resumed, refused', () => {
  const ctx = { adapters: new Set(['bank-a']), testLoginMaxAgeDays: 3650, now: NOW };
  let r = record('bank-a', 'testing');
  const move = (to: TransitionRequest['to'], extra: Partial<TransitionRequest> = {}) => {
    ctx.now = new Date(ctx.now.getTime() + 60_000);
    r = transition(r, { to, by: 'Agency', reason: `to ${to}`, ...extra }, ctx);
    expect(historyProblems(r, ctx.now)).toEqual([]);
  };
  move('development');
  move('testing');
  r = { ...r, test_login: { at: ctx.now.toISOString(), ok: true, report: {} } };
  move('production');
  move('suspended');
  move('resume');
  move('suspended');
  move('refused', { refusalReasons: ['not_licensed'] });
  expect(historyProblems(record('bank-a', 'production'), NOW)).toEqual([]);
});

test('a stage skipped by hand names the entry and the gates it never passed', () => {
  const forged = plus(record('mock-bank', 'application'), 'production', at(1));
  expect(historyProblems(forged, NOW)).toEqual([
    'history[1]: application -> production is not a legal move',
    'history[1]: production needs a passing security probe recorded (probe); the record has none',
    'history[1]: production needs a successful test login recorded (test_login); the record has none',
  ]);
  const first = { ...record('mock-bank', 'review'), history: record('mock-bank', 'review').history.slice(1) };
  expect(historyProblems(first, NOW)).toEqual(['history[0].stage: the process begins with application, not review']);
});

test('a resumption returns to the stage it left, nowhere else', () => {
  const suspended = plus(record('bank-a', 'development'), 'suspended', at(5));
  expect(historyProblems(plus(suspended, 'development', at(6)), NOW)).toEqual([]);
  expect(historyProblems(plus(suspended, 'signing', at(6)), NOW)).toEqual([
    'history[6]: suspended -> signing is not a legal move',
  ]);
});

test('entries never go back in time, and nothing is dated ahead of the clock (a few minutes allowed)', () => {
  const backwards = plus(record('bank-a', 'review'), 'agreement_drafting', at(0));
  expect(historyProblems(backwards, NOW)).toEqual([
    `history[2].at: ${at(0)} is earlier than the entry before it (${at(1)})`,
  ]);
  const soon = new Date(NOW.getTime() + 60_000).toISOString();
  const later = new Date(NOW.getTime() + 3_600_000).toISOString();
  expect(historyProblems(plus(record('bank-a', 'review'), 'agreement_drafting', soon), NOW)).toEqual([]);
  expect(historyProblems(plus(record('bank-a', 'review'), 'agreement_drafting', later), NOW)).toEqual([
    `history[2].at: ${later} is in the future`,
  ]);
  const reports = record('bank-a', 'production', {
    probe: { at: later, ok: true, report: {} },
    test_login: { at: later, ok: true, report: {} },
  });
  expect(historyProblems(reports, NOW)).toEqual([
    `probe.at: ${later} is in the future`,
    `test_login.at: ${later} is in the future`,
  ]);
});

test('a failed probe dated after testing was reached is a later run; one from before is a gate never passed', () => {
  const testing = record('bank-a', 'testing');
  const reached = testing.history.at(-1)!.at;
  const after = new Date(Date.parse(reached) + 86_400_000).toISOString();
  expect(historyProblems({ ...testing, probe: { at: after, ok: false, report: {} } }, NOW)).toEqual([]);
  expect(historyProblems({ ...testing, probe: { at: reached, ok: false, report: {} } }, NOW)).toEqual([
    `history[5]: testing needs a passing security probe recorded (probe); the record has only a failed one of ${reached}`,
  ]);
  expect(historyProblems({ ...testing, probe: undefined }, NOW)).toEqual([
    'history[5]: testing needs a passing security probe recorded (probe); the record has none',
  ]);
});

describe('a record that skips the process, against start and the commands', () => {
  let dir: string;
  let registry: string;
  let config: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-joining-history-'));
    registry = writeRegistry(join(dir, 'registry'), [
      record('mock-eid', 'production'),
      plus(record('mock-bank', 'application'), 'production', at(1)),
    ]);
    config = join(dir, 'gateway.yaml');
    const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: REGISTRY_PROVIDERS, registry: { dir: registry }, audit }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('start refuses it, naming the file and the entry', async () => {
    const start = startGateway({ providers: REGISTRY_PROVIDERS, settings: { registry: { dir: registry } } });
    await expect(start).rejects.toBeInstanceOf(SecurityCheckError);
    await expect(start).rejects.toMatchObject({
      problems: expect.arrayContaining([
        `${registry}/mock-bank.yaml: history[1]: application -> production is not a legal move`,
      ]),
    });
  });

  test('config check refuses it; providers check says its conditions do not hold, and why', async () => {
    const checked = await runCli(['config', 'check', config]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(
      `${registry}/mock-bank.yaml: history[1]: application -> production is not a legal move`,
    );
    const r = await runCli(['providers', 'check', 'mock-bank', '-c', config, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      problems: expect.arrayContaining([
        'history[1]: production needs a successful test login recorded (test_login); the record has none',
      ]),
    });
  });
});

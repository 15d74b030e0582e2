// `vpm-gateway providers list|show|check|transition` as an operator runs them, against record files.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { record, REGISTRY_PROVIDERS, writeRegistry } from './fixtures.ts';

let dir: string;
let registry: string;
let config: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-cli-'));
  const lapsed = record('mock-eid', 'production');
  lapsed.licence = { ...lapsed.licence!, valid_until: '2020-01-01' };
  registry = writeRegistry(join(dir, 'registry'), [
    lapsed,
    record('mock-bank', 'development'),
    record('applicant', 'review', { adapter: undefined }),
  ]);
  config = join(dir, 'gateway.yaml');
  const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
  writeFileSync(
    config,
    stringify({ issuer: 'http://127.0.0.1:1', providers: REGISTRY_PROVIDERS, registry: { dir: registry }, audit }),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['providers', ...args, '--config', config]);
const file = (id: string) => readFileSync(join(registry, `${id}.yaml`), 'utf8');

test('list: every record, its stage and who it is offered to', async () => {
  const r = await cli('list', '--json');
  expect(r.code).toBe(0);
  expect(
    JSON.parse(r.stdout).providers.map((p: { id: string; stage: string; offered_to: string }) => [
      p.id,
      p.stage,
      p.offered_to,
    ]),
  ).toEqual([
    ['applicant', 'review', 'none'],
    ['mock-bank', 'development', 'none'],
    ['mock-eid', 'production', 'none'],
  ]);
  expect((await cli('list')).stdout).toMatch(/^mock-eid\s+production\s+offered to none/m);
});

test('show: the whole record; an unknown id is a usage error', async () => {
  const shown = JSON.parse((await cli('show', 'mock-bank', '--json')).stdout);
  expect(shown).toEqual(parse(file('mock-bank')));
  expect((await cli('show', 'mock-bank')).stdout).toContain('history\n    2026-01-05T00:00:00.000Z application');
  expect(await cli('show', 'nobody')).toMatchObject({ code: 2, stderr: expect.stringContaining('no record "nobody"') });
});

test("show: what the joining conditions judge (licence's end, qualified, two-factor) and each move's evidence", async () => {
  const eid = record('applicant', 'review', { adapter: undefined, two_factor: false });
  eid.history[1]!.evidence = ['application 2026/7', 'register extract'];
  writeFileSync(join(registry, 'applicant.yaml'), stringify(eid));
  const text = (await cli('show', 'applicant')).stdout;
  expect(text).toContain(
    '  licence      eid_providers REG-1, qualified, valid until 2099-12-31; checked 2026-01-05 by Agency lawyer\n',
  );
  expect(text).toContain('  two-factor   NO online two-factor authentication\n');
  expect(text).toContain(
    'review             by Agency reviewer: moved to review\n      evidence: application 2026/7\n      evidence: register extract\n',
  );
});

test('check: exit 1 when the current stage no longer holds; what the next stage needs', async () => {
  const lapsed = await cli('check', 'mock-eid', '--json');
  expect(lapsed.code).toBe(1);
  expect(JSON.parse(lapsed.stdout)).toMatchObject({
    ok: false,
    problems: ['licence.valid_until: expired on 2020-01-01'],
    next: null,
  });
  const dev = await cli('check', 'mock-bank', '--json');
  expect(dev.code).toBe(0);
  expect(JSON.parse(dev.stdout).next).toEqual({
    stage: 'testing',
    problems: ['probe: testing needs a passing security probe (vpm-gateway providers probe)'],
  });
});

test('transition: written to the record with who, why and evidence, and audited here when no gateway runs', async () => {
  const r = await cli(
    'transition',
    'applicant',
    'refused',
    '--reason',
    'no licence',
    '--by',
    'Agency lawyer',
    '--refusal-reason',
    'not_licensed',
    '--refusal-reason',
    'not_free_of_charge',
    '--evidence',
    'letter 2026/14',
    '--json',
  );
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toMatchObject({
    ok: true,
    stage: 'refused',
    from: 'review',
    revision: 3,
    audited: 'here',
  });
  const written = parse(file('applicant'));
  expect(written.revision).toBe(3);
  expect(written.history.at(-1)).toMatchObject({
    stage: 'refused',
    by: 'Agency lawyer',
    reason: 'no licence',
    evidence: ['letter 2026/14'],
    refusal_reasons: ['not_licensed', 'not_free_of_charge'],
  });
  const audit = await runCli(['audit', 'query', '-c', config, '--event', 'registry_change', '--json']);
  expect(audit.code).toBe(0);
  expect(JSON.stringify(JSON.parse(audit.stdout))).toContain('"refusal_reasons":["not_licensed","not_free_of_charge"]');
});

test('a writer lock left by a gateway that is gone: the move is recorded here, the lock taken over', async () => {
  const audit = join(dir, 'audit');
  mkdirSync(audit, { recursive: true });
  const gone = spawnSync(process.execPath, ['-e', '']).pid;
  const lock = { pid: gone, host: hostname(), started: '2026-01-01T00:00:00.000Z', token: 'crashed' };
  writeFileSync(join(audit, 'writer.lock'), `${JSON.stringify(lock)}\n`);
  const r = await cli('transition', 'applicant', 'agreement_drafting', '--reason', 'eligible', '--by', 'Agency');
  expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('; recorded in the audit log') });
  const logged = await runCli(['audit', 'query', '-c', config, '--event', 'registry_change', '--json']);
  expect(JSON.stringify(JSON.parse(logged.stdout))).toContain('"stage":"agreement_drafting"');
});

test('a writer lock of a gateway that runs: the move is written and left to it to record', async () => {
  const audit = join(dir, 'audit');
  mkdirSync(audit, { recursive: true });
  const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    const lock = { pid: running.pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', token: 'live' };
    writeFileSync(join(audit, 'writer.lock'), `${JSON.stringify(lock)}\n`);
    const r = await cli('transition', 'applicant', 'agreement_drafting', '--reason', 'eligible', '--by', 'Agency');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`the running gateway (pid ${running.pid} on host ${hostname()}`);
    expect(parse(file('applicant')).history.at(-1).stage).toBe('agreement_drafting');
  } finally {
    running.kill();
  }
});

test('an illegal move or an unmet precondition writes nothing and exits 1', async () => {
  const before = file('mock-bank');
  const skip = await cli('transition', 'mock-bank', 'production', '--reason', 'hurry', '--json');
  expect(skip.code).toBe(1);
  expect(JSON.parse(skip.stdout)).toEqual({
    ok: false,
    id: 'mock-bank',
    problems: ['development -> production is not a legal move'],
  });
  const unprobed = await cli('transition', 'mock-bank', 'testing', '--reason', 'ready');
  expect(unprobed).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('probe: testing needs a passing security probe'),
  });
  expect(file('mock-bank')).toBe(before);
});

test('usage errors: no stage, an unknown stage or refusal reason, no --reason', async () => {
  expect((await cli('transition', 'mock-bank')).code).toBe(2);
  expect(await cli('transition', 'mock-bank', 'live', '--reason', 'x')).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('"live" is not a stage'),
  });
  expect((await cli('transition', 'applicant', 'refused', '--reason', 'x', '--refusal-reason', 'rude')).code).toBe(2);
  expect(await cli('transition', 'applicant', 'agreement_drafting')).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--reason is required'),
  });
});

test('a registry that disagrees with the configuration: list says why and exits 1, transition refuses', async () => {
  writeFileSync(
    join(registry, 'mock-bank.yaml'),
    stringify({ ...record('mock-bank', 'development'), adapter: 'mock-eid' }),
  );
  const r = await cli('list');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(
    `${registry}/mock-eid.yaml: adapter: mock-eid is already governed by ${registry}/mock-bank.yaml`,
  );
  expect(r.stderr).toContain(`providers[1]: no record in ${registry} names "mock-bank" as its adapter`);
  expect((await cli('transition', 'applicant', 'agreement_drafting', '--reason', 'x')).code).toBe(1);
});

test('config check reads the registry as start does: a record that does not validate refuses the file', async () => {
  expect(await runCli(['config', 'check', config])).toMatchObject({ code: 0 });
  const broken = parse(file('mock-bank')) as Record<string, unknown>;
  broken.contacts = [];
  writeFileSync(join(registry, 'mock-bank.yaml'), stringify(broken));
  const r = await runCli(['config', 'check', config]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${registry}/mock-bank.yaml: contacts: Too small: expected array to have >=1 items`);
});

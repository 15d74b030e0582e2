// The live registry of one instance on its own: a licence lapsing at midnight takes effect without any
// record change, and a record file caught half-edited (invalid) changes nothing until it is valid again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { loadRecords } from '../../src/onboarding/files.ts';
import { changeDetails } from '../../src/onboarding/changes.ts';
import { changeDetail, LiveRegistry } from '../../src/onboarding/live.ts';
import type { RegistryRecord } from '../../src/onboarding/record.ts';
import { recordStanding } from '../../src/onboarding/standing.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { CutOffStore } from '../support/cut-off-store.ts';
import { record, writeRegistry } from './fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-live-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function live(records: Map<string, RegistryRecord>, now: () => Date, apply: () => void) {
  const logger = memoryLogger();
  const registry = new LiveRegistry({
    dir,
    pollSeconds: 3600,
    store: new MemoryStore(),
    shared: false,
    audit: new MemoryAuditLog(),
    logger,
    records,
    check: () => [],
    apply,
    now,
  });
  return { registry, logger };
}

test('a licence lapsing at midnight in Riga is applied on the next look, with no record change', async () => {
  const bank = record('bank-a', 'production');
  bank.licence = { ...bank.licence!, valid_until: '2026-06-01' };
  writeRegistry(dir, [bank]);
  // 23:59 in Riga (summer time, UTC+3) on the licence's last day, then just past midnight there
  let now = new Date('2026-06-01T20:59:00Z');
  const offeredTo: string[] = [];
  const records = loadRecords(dir).records;
  const { registry } = live(
    records,
    () => now,
    () => offeredTo.push(recordStanding(records.get('bank-a')!, 'bank-a', now).audience),
  );
  await registry.start();
  await registry.poll();
  expect(offeredTo).toEqual([]);
  now = new Date('2026-06-01T21:00:01Z');
  await registry.poll();
  expect(offeredTo).toEqual(['none']);
  registry.close();
});

test('an invalid record file changes nothing and is reported; once valid it applies', async () => {
  writeRegistry(dir, [record('bank-a', 'production')]);
  const records = loadRecords(dir).records;
  let applied = 0;
  const { registry, logger } = live(
    records,
    () => new Date('2026-06-01T12:00:00Z'),
    () => {
      applied += 1;
    },
  );
  await registry.start();
  writeFileSync(join(dir, 'bank-a.yaml'), 'id: bank-a\nhistory: [');
  await registry.poll();
  expect(applied).toBe(0);
  expect(records.get('bank-a')?.revision).toBe(7);
  expect(logger.lines.join('\n')).toContain('registry change not applied');
  const suspended = record('bank-a', 'production');
  suspended.history.push({ ...suspended.history.at(-1)!, stage: 'suspended', reason: 'audit finding' });
  writeFileSync(join(dir, 'bank-a.yaml'), stringify({ ...suspended, revision: 8 }));
  await registry.poll();
  expect(applied).toBe(1);
  expect(recordStanding(records.get('bank-a')!, 'bank-a').stage).toBe('suspended');
  registry.close();
});

test('a change refused only for a move dated ahead of the clock applies once the clock reaches it, with no file change', async () => {
  writeRegistry(dir, [record('bank-a', 'production')]);
  const records = loadRecords(dir).records;
  let now = new Date('2026-06-01T12:00:00Z');
  let applied = 0;
  const { registry, logger } = live(
    records,
    () => now,
    () => {
      applied += 1;
    },
  );
  await registry.start();
  const suspended = record('bank-a', 'production');
  // written on a host whose clock runs ten minutes ahead of this one
  suspended.history.push({ ...suspended.history.at(-1)!, stage: 'suspended', at: '2026-06-01T12:10:00Z' });
  writeFileSync(join(dir, 'bank-a.yaml'), stringify({ ...suspended, revision: 8 }));
  await registry.poll();
  await registry.poll();
  expect(applied).toBe(0);
  // logged once, not at every look
  expect(logger.lines.filter((line) => line.includes('registry change not applied'))).toHaveLength(1);
  now = new Date('2026-06-01T12:10:00Z');
  await registry.poll();
  expect(applied).toBe(1);
  expect(recordStanding(records.get('bank-a')!, 'bank-a').stage).toBe('suspended');
  registry.close();
});

test('a record revision without a stage move is audited as what it is: a report, or an edit naming its fields', () => {
  const testing = record('eid-a', 'testing') as RegistryRecord;
  const moved = record('eid-a', 'production') as RegistryRecord;
  expect(changeDetail(moved, testing)).toMatchObject({ stage: 'production', from: 'testing', by: expect.any(String) });
  const probed = {
    ...testing,
    revision: testing.revision + 1,
    probe: { at: '2026-12-03T10:00:00Z', ok: true, report: {} },
  };
  const report = changeDetail(probed, testing);
  expect(report).toMatchObject({ report_only: true, probe: { ok: true } });
  expect(report).not.toHaveProperty('by');
  // a decision written into the file by hand is no report: the edited fields are named, nobody is made its author
  const decided = {
    ...testing,
    revision: testing.revision + 1,
    decisions: [{ at: '2026-12-03', by: 'bob', decision: 'x' }],
  };
  const edit = changeDetail(decided as unknown as RegistryRecord, testing);
  expect(edit).toMatchObject({ edited: ['decisions'] });
  expect(edit).not.toHaveProperty('report_only');
  expect(edit).not.toHaveProperty('by');
});

test('moves read together are one event each, in order; a new report goes with the last', () => {
  const before = record('bank-a', 'production') as RegistryRecord;
  const suspension = { ...before.history.at(-1)!, stage: 'suspended' as const, by: 'Alice', reason: 'fraud' };
  const resumption = { ...before.history.at(-1)!, stage: 'production' as const, by: 'Bob', reason: 'false alarm' };
  const probe = { at: '2026-12-03T10:00:00Z', ok: true, report: {} };
  const after = { ...before, revision: 10, probe, history: [...before.history, suspension, resumption] };
  const details = changeDetails(after, before);
  expect(details).toMatchObject([
    { from: 'production', stage: 'suspended', by: 'Alice', reason: 'fraud', revision: 10 },
    { from: 'suspended', stage: 'production', by: 'Bob', reason: 'false alarm', revision: 10, probe: { ok: true } },
  ]);
  expect(details[0]).not.toHaveProperty('probe');
  // a history rewritten rather than added to is one change, as it reads now
  const rewritten = { ...after, history: [...before.history.slice(0, -1), suspension, resumption] };
  expect(changeDetails(rewritten, before)).toHaveLength(1);
});

test('a store outage fails every look: logged once, and once more when the looks work again', async () => {
  writeRegistry(dir, [record('bank-a', 'production')]);
  const store = new CutOffStore();
  const logger = memoryLogger();
  const registry = new LiveRegistry({
    dir,
    pollSeconds: 3600,
    store,
    shared: true,
    audit: new MemoryAuditLog(),
    logger,
    records: loadRecords(dir).records,
    check: () => [],
    apply: () => {},
  });
  await registry.start();
  store.away = () => true;
  for (let i = 0; i < 3; i += 1) await registry.poll();
  store.restore();
  for (let i = 0; i < 2; i += 1) await registry.poll();
  const said = logger.lines.map((line) => JSON.parse(line) as { msg: string; level: string | number });
  expect(said.filter((l) => l.msg.startsWith('registry poll')).map((l) => l.msg)).toEqual([
    'registry poll failed',
    'registry poll works again',
  ]);
  registry.close();
});

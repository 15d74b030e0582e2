// A record file changed on what it holds when written: a stage move decided on an older revision is
// refused, a report is applied to the newest revision, and a lock left by a command that died is taken over.
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { transition } from '../../src/onboarding/process.ts';
import { RecordConflictError, RecordWriteError, updateRecord } from '../../src/onboarding/record-update.ts';
import { record, writeRegistry } from './fixtures.ts';

let dir: string;
beforeEach(() => {
  dir = writeRegistry(mkdtempSync(join(tmpdir(), 'vpm-record-update-')), [record('mock-bank', 'testing')]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = () => readFileSync(join(dir, 'mock-bank.yaml'), 'utf8');
const ctx = { adapters: new Set(['mock-bank']), testLoginMaxAgeDays: 30 };
const refusal = {
  to: 'refused' as const,
  by: 'Colleague',
  reason: 'licence withdrawn',
  refusalReasons: ['not_licensed' as const],
};

test('a move decided on an older revision is refused, naming both revisions, and nothing is written', async () => {
  const read = record('mock-bank', 'testing');
  await updateRecord(dir, 'mock-bank', (current) => transition(current, refusal, ctx), read.revision);
  const after = file();
  const stale = transition(read, { to: 'development', by: 'Other', reason: 'test failed' }, ctx);
  const attempt = updateRecord(dir, 'mock-bank', () => stale, read.revision);
  await expect(attempt).rejects.toThrow(RecordConflictError);
  await expect(attempt).rejects.toThrow(
    `it read revision ${read.revision}, the file holds revision ${read.revision + 1}`,
  );
  expect(file()).toBe(after);
});

test('a report is applied to the record as it is now: a move made meanwhile stays', async () => {
  await updateRecord(dir, 'mock-bank', (current) => transition(current, refusal, ctx));
  const login = { at: '2026-01-20T10:00:00.000Z', ok: true, report: { provider: 'mock-bank' } };
  const { previous, next } = await updateRecord(dir, 'mock-bank', (current) => ({ ...current, test_login: login }));
  expect(previous.history.at(-1)!.stage).toBe('refused');
  const written = parse(file());
  expect(written).toMatchObject({ revision: previous.revision + 1, test_login: login });
  expect(written.history.at(-1).stage).toBe('refused');
  expect(next.revision).toBe(written.revision);
});

test('a change the record schema refuses writes nothing', async () => {
  const before = file();
  await expect(updateRecord(dir, 'mock-bank', (current) => ({ ...current, contacts: [] }))).rejects.toThrow(
    RecordWriteError,
  );
  expect(file()).toBe(before);
});

test("a lock file left by a command that died is taken over; the change is written and the lock's gone", async () => {
  const lock = join(dir, '.mock-bank.lock');
  writeFileSync(lock, '{"pid":1,"host":"gone"}\n');
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(lock, longAgo, longAgo);
  const { next } = await updateRecord(dir, 'mock-bank', (current) => transition(current, refusal, ctx));
  expect(parse(file()).revision).toBe(next.revision);
  expect(() => readFileSync(lock)).toThrow(/ENOENT/);
});

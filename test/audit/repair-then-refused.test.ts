// A repair is recorded in the log it repaired: the torn tail is moved aside only once the start will go
// on to record that (`audit_log_repaired`). A start refused for another reason (the volume below its
// free-space floor, a witness the log disagrees with, a time ahead of the clock) leaves the torn bytes
// where they are, so the repair that follows, once the cause is fixed, still finds them and records itself.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditConfigSchema, openAuditLog } from '../../src/audit/config.ts';
import { cli, loginEvents, testLog } from './helpers.ts';

test('a start refused below the free-space floor leaves a torn tail in place; the later repair is recorded', async () => {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const segment = join(t.dir, 'segment-000000000000.jsonl');
  appendFileSync(segment, '{"leaf":"abc');

  // the floor above any free space this volume can have
  const starved = auditConfigSchema.parse({
    ...t.config,
    torn_tail: 'repair',
    min_free_bytes: Number.MAX_SAFE_INTEGER,
  });
  await expect(openAuditLog(starved, t.logger)).rejects.toThrow(/at or below audit.min_free_bytes/);
  expect(readFileSync(segment, 'utf8').slice(-12)).toBe('{"leaf":"abc');
  expect(existsSync(join(t.dir, 'torn'))).toBe(false);

  const repaired = await t.open({ tornTail: 'repair' });
  await repaired.close();
  const recorded = await cli('query', t.dir, '--event', 'audit_log_repaired', '--json');
  expect(recorded.json.entries.map((e: { detail: { length: number } }) => e.detail.length)).toEqual([12]);
});

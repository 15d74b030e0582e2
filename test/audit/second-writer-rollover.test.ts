// Two writers on one log past its lock, when one of them starts a new segment: the other's segment file is
// left as it was, so checking that file's size alone cannot tell it that entries from its next index on are
// written elsewhere. Appending to the old segment then numbers entries twice, each writer acknowledging its
// own, and the log no longer verifies. Whichever finds the other's segment, or finds bytes it did not write
// in the segment it leaves, fails closed.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { cli, testLog, type TestLog } from './helpers.ts';

const MAX = 4096;
/** a short entry, and one more than twice as long */
const small = { type: 'logout' as const };
const large = { type: 'provider_chosen' as const, correlationId: 'c'.repeat(400), clientId: 'rp' };
const segments = (t: TestLog) => readdirSync(t.dir).filter((name) => name.startsWith('segment-'));

/** A log whose one segment has room for one short entry more, not for a long one. */
async function nearlyFullSegment(t: TestLog): Promise<FileAuditLog> {
  const log = await t.open();
  await log.record(small);
  const [only] = segments(t);
  const size = () => statSync(join(t.dir, only!)).size;
  const smallBytes = size();
  while (size() + 2 * smallBytes <= MAX) await log.record(small);
  // under a checkpoint: the second writer then has none to write when it opens, and the first's new segment
  // (which begins with a checkpoint) meets the second's segment, not a checkpoint the second appended
  await log.checkpoint();
  return log;
}

/** Two writers on a log whose segment is nearly full, the second past the lock; `work` runs with both, then
 * they are closed and the log must verify. */
async function twoWriters(work: (first: FileAuditLog, second: FileAuditLog, t: TestLog) => Promise<void>) {
  const t = testLog({ segment_max_bytes: MAX });
  const first = await nearlyFullSegment(t);
  rmSync(join(t.dir, 'writer.lock'));
  const second = await t.open();
  try {
    await work(first, second, t);
  } finally {
    await second.close();
    await first.close();
  }
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
}

async function expectFailedClosed(write: Promise<void>): Promise<void> {
  const refused = await write.then(
    () => 'written',
    (err: Error) => err,
  );
  expect(refused).toBeInstanceOf(AuditUnavailableError);
  expect((refused as Error).message).toContain('another process writes this log');
}

test('the first writer starts a new segment: the second, still at the old one, fails closed at its first write', () =>
  twoWriters(async (first, second, t) => {
    await first.record(large);
    expect(segments(t)).toHaveLength(2);
    await expectFailedClosed(second.record(small));
  }));

test('the second writer wrote to the segment the first then leaves: the first fails closed instead of going on', () =>
  twoWriters(async (first, second, t) => {
    await second.record(small);
    await expectFailedClosed(first.record(large));
    expect(segments(t)).toHaveLength(1);
  }));

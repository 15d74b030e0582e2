// A torn tail is copied into torn/ in bounded chunks, never read whole: a crash can leave a long tail
// (checkpoints.jsonl is never rolled over, and a tail of it can be as long as the file), and a repair that
// held it in one Buffer needed as much memory as the tail was long. Here a 200 MiB tail (a sparse file, put
// there) is repaired by a real `audit repair` with a 64 MB heap; its peak memory stays below half the tail's
// size more than a repair of a tail of a few bytes needs, and the copy and the recorded digest are whole.
import { createHash } from 'node:crypto';
import { appendFileSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { auditWithPeakRss, MiB } from './support/peak-rss.ts';
import { configFile, entries, loginEvents, type TestLog, testLog } from './helpers.ts';

const TAIL = 200 * MiB;
const logs: TestLog[] = [];
afterAll(() => {
  for (const t of logs) rmSync(t.root, { recursive: true, force: true });
});

/** A closed log whose checkpoints.jsonl ends in `tail` bytes after its last complete line; returns where. */
async function logWithTornCheckpoints(tail: (path: string, size: number) => void) {
  const t = testLog();
  logs.push(t);
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const path = join(t.dir, 'checkpoints.jsonl');
  const offset = statSync(path).size;
  tail(path, offset);
  return { t, offset };
}

function zerosDigest(length: number): string {
  const digest = createHash('sha256');
  const zeros = Buffer.alloc(MiB);
  for (let done = 0; done < length; done += zeros.length)
    digest.update(zeros.subarray(0, Math.min(MiB, length - done)));
  return `sha256:${digest.digest('base64url')}`;
}

test('a torn tail of 200 MiB is copied aside in bounded chunks: peak memory stays far below its size', async () => {
  const small = await logWithTornCheckpoints((path) => appendFileSync(path, '{"n":'));
  const baseline = auditWithPeakRss(64, 'repair', '--config', configFile(small.t), '--json');
  expect(baseline.status).toBe(0);

  const large = await logWithTornCheckpoints((path, size) => truncateSync(path, size + TAIL));
  const run = auditWithPeakRss(64, 'repair', '--config', configFile(large.t), '--json');
  expect(run.stderr).not.toMatch(/out of memory/i);
  expect(run.status).toBe(0);
  const movedTo = `torn/checkpoints.jsonl.${large.offset}.torn`;
  expect(JSON.parse(run.stdout)).toMatchObject({
    ok: true,
    repaired: [{ file: 'checkpoints.jsonl', offset: large.offset, length: TAIL, moved_to: movedTo }],
  });
  expect(statSync(join(large.t.dir, movedTo)).size).toBe(TAIL);
  expect(readdirSync(join(large.t.dir, 'torn'))).toEqual([movedTo.slice('torn/'.length)]);
  const recorded = entries(large.t.dir).find((e) => e.type === 'audit_log_repaired');
  expect(recorded?.detail).toMatchObject({ length: TAIL, digest: zerosDigest(TAIL), moved_to: movedTo });
  // beyond what the repair of a few bytes needs (a copy held whole would add the tail's 200 MiB)
  expect(run.peak - baseline.peak).toBeLessThan(TAIL / 2);
}, 120_000);

// The older segments' pass runs after the start, in a worker that reads the directory again: whoever can write
// it (not the keys) may change it in between. The pass must end at the tree the start grew from, as the start
// read its signed checkpoint, not at whatever checkpoints.jsonl says by the time the worker reads it: there,
// an older entry edited (hashed again) and the checkpoints over it made unreadable (same length, so every line
// stays where the start found it) would be compared with nothing, and the pass would report the log verified.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { verifyOlderSegments } from '../../src/audit/older-segments.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { rehashEntry, segmentedLog, segmentsOf } from './support/segmented-log.ts';

test('an older segment and its checkpoints changed after the start: the pass names the tree the start grew from', async () => {
  const t = await segmentedLog();
  const scan = await scanLog(t.dir, { signatures: 'latest', fromLatestSegment: true });
  expect(scan.problems).toEqual([]);
  const job = scan.older!;
  expect(verifyOlderSegments(job)).toEqual([]);

  // after the start: entry 1 edited, every checkpoint line the pass would read made undecodable in place
  rehashEntry(t.dir, segmentsOf(t.dir)[0]!, 2, (body) => body.replace('mock-eid', 'mock-eix'));
  const path = join(t.dir, CHECKPOINTS_FILE);
  writeFileSync(path, readFileSync(path, 'utf8').replaceAll('{"n":', '{"N":'));

  const problems = verifyOlderSegments(job);
  expect(problems.map((p) => p.message)).toEqual([
    expect.stringMatching(new RegExp(`^root does not match entries 0\\.\\.${job.next.first - 1}`)),
  ]);
  expect(problems[0]!.position.file).toBe(CHECKPOINTS_FILE);
});

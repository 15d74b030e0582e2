// `audit prove` and `audit consistency` build their proofs in one pass over the leaves, holding O(log n)
// hashes: a year's log holds hundreds of millions of entries, and holding every leaf hash (32 bytes each,
// in a Buffer outside the V8 heap, so a heap limit alone does not catch it) took gigabytes. Real CLI runs
// with a small heap over a log of 2^21 entries, where the leaf hashes alone are 64 MiB: each run's peak
// memory exceeds that of the same command over a log of 8,192 entries by less than half of that, and the
// proof it prints is checked by `audit verify-proof`.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, type TestLog } from './helpers.ts';
import { longLog } from './support/long-log.ts';
import { auditWithPeakRss } from './support/peak-rss.ts';

const ENTRIES = 2 ** 21;
const LEAF_HASHES = ENTRIES * 32;
const HEAP_MB = 32;

let big: TestLog;
let small: TestLog;
beforeAll(async () => {
  big = await longLog(ENTRIES, [1, ENTRIES / 2, ENTRIES]);
  small = await longLog(8192, [1, 4096, 8192]);
}, 120_000);
afterAll(() => {
  for (const t of [big, small]) if (t) rmSync(t.root, { recursive: true, force: true });
});

/** `audit <command> <log> ...args` on both logs; the proof document of the long log's run, once it verifies. */
async function provenWithin(command: 'prove' | 'consistency', bigArgs: string[], smallArgs: string[]) {
  const run = (t: TestLog, args: string[]) =>
    auditWithPeakRss(HEAP_MB, command, t.dir, '--public-key', t.publicKey, '--json', ...args);
  const baseline = run(small, smallArgs);
  expect(baseline.status).toBe(0);
  const measured = run(big, bigArgs);
  expect(measured.stderr).not.toMatch(/out of memory/i);
  expect(measured.status).toBe(0);
  const file = join(big.root, `${command}.json`);
  writeFileSync(file, measured.stdout);
  const checked = await cli('verify-proof', file, '--public-key', big.publicKey);
  expect(checked.code).toBe(0);
  // a copy of every leaf hash would add 64 MiB (and more while it grows)
  expect(measured.peak - baseline.peak).toBeLessThan(LEAF_HASHES / 2);
  return JSON.parse(measured.stdout);
}

test('an inclusion proof in a log of 2^21 entries needs no memory for its leaves', async () => {
  const doc = await provenWithin('prove', ['--index', String(ENTRIES - 1000)], ['--index', '5000']);
  expect(doc).toMatchObject({ index: ENTRIES - 1000, checkpoint: { size: ENTRIES } });
  expect(doc.path).toHaveLength(21);
}, 180_000);

test('a consistency proof between sizes 2^20 and 2^21 needs no memory for the leaves', async () => {
  const doc = await provenWithin('consistency', ['--first', String(ENTRIES / 2)], ['--first', '4096']);
  expect(doc).toMatchObject({ first: { size: ENTRIES / 2 }, second: { size: ENTRIES } });
  expect(doc.path).toHaveLength(1);
}, 180_000);

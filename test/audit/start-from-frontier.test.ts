// The start reads only the latest segment of a log of several: each new segment begins with a signed checkpoint
// carrying the tree's frontier, the start grows the tree from there, and the older segments are verified after
// it, in a worker thread; a problem there fails the log closed. Everything the start refused about the latest
// segment it still refuses; a log without a frontier (an earlier version's) is still read whole at start.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { decodeEntryLine, encodeEntryLine } from '../../src/audit/format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../src/audit/keys.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { cli, configFile, loginEvents, type TestLog } from './helpers.ts';
import {
  checkpointLines,
  openedLine,
  rehashEntry,
  replaceCheckpoint,
  segmentedLog,
  segmentsOf,
  swapEntries,
} from './support/segmented-log.ts';

const first = (name: string) => Number(/segment-(\d+)/.exec(name)![1]);
const refusal = (t: TestLog) =>
  t.open().then(
    (log) => log.close().then(() => 'started'),
    (err: Error) => err.message,
  );

/** The checkpoint at the latest segment's start, the one a start grows the tree from. */
function frontierCheckpoint(t: TestLog) {
  const at = first(segmentsOf(t.dir).at(-1)!);
  return checkpointLines(t.dir).find(({ checkpoint }) => checkpoint.size === at && checkpoint.frontier)!;
}

/** Opens the log (it must start) and waits for the older segments' pass. */
async function openAndWaitForOlder(t: TestLog): Promise<FileAuditLog> {
  const log = await t.open();
  expect(openedLine(t).verified_at_start).toEqual({
    from_entry: first(segmentsOf(t.dir).at(-1)!),
    segment: segmentsOf(t.dir).at(-1),
  });
  expect(log.background).toBeDefined();
  await log.background!.done;
  return log;
}

test('every segment after the first begins with a signed frontier; the start reads the latest, the older ones verify after it; a restarted writer goes on with the same tree', async () => {
  const t = await segmentedLog();
  const segments = segmentsOf(t.dir);
  expect(segments.length).toBeGreaterThanOrEqual(4);
  const withFrontier = checkpointLines(t.dir).filter(({ checkpoint }) => checkpoint.frontier);
  expect(withFrontier.map(({ checkpoint }) => checkpoint.size)).toEqual(segments.slice(1).map(first));
  const log = await openAndWaitForOlder(t);
  expect(t.logger.lines.some((l) => l.includes('audit log older segments verified'))).toBe(true);
  expect(log.status()).toMatchObject({ healthy: true });
  // the writer goes on from the tree the start grew: new entries, a new segment and its frontier, all verify
  for (let n = 10; n < 14; n++) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
  expect(segmentsOf(t.dir).length).toBeGreaterThan(segments.length);
  const verify = await cli('verify', t.dir, '--config', configFile(t), '--json');
  expect(verify.json.problems).toEqual([]);
  expect(verify.code).toBe(0);
});

describe('an older segment altered: the start serves, the pass after it fails the log closed, naming the segment', () => {
  const cases: [string, (t: TestLog, file: string) => void][] = [
    [
      'an entry edited (its leaf hash left)',
      (t, file) => {
        const path = join(t.dir, file);
        writeFileSync(path, readFileSync(path, 'utf8').replace('"type":"provider_chosen"', '"type":"provider_chosez"'));
      },
    ],
    ['two entries swapped', (t, file) => swapEntries(t.dir, file, 1, 2)],
  ];
  test.each(cases)('%s', async (_, alter) => {
    const t = await segmentedLog();
    const file = segmentsOf(t.dir)[1]!;
    alter(t, file);
    const log = await openAndWaitForOlder(t);
    expect(log.status()).toMatchObject({ healthy: false, error: expect.stringContaining(file) });
    await expect(log.record(loginEvents(99)[0]!)).rejects.toBeInstanceOf(AuditUnavailableError);
    const errors = t.logger.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        msg: 'audit log fails verification of its older segments; refusing further events until restart',
        file,
        problem: expect.stringContaining(file),
      }),
    ]);
    await log.close();
    const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(verify.code).toBe(1);
    expect(verify.json.problems[0].position.file).toBe(file);
  });
});

describe('the checkpoint the start grows the tree from', () => {
  test('its frontier edited (the line re-encoded canonically): the start is refused by its signature', async () => {
    const t = await segmentedLog();
    const { line, checkpoint } = frontierCheckpoint(t);
    const frontier = [...checkpoint.frontier!];
    frontier[0] = frontier[0]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    replaceCheckpoint(t.dir, line, { ...checkpoint, frontier });
    expect(await refusal(t)).toMatch(
      new RegExp(`fails verification: checkpoint \\(checkpoints.jsonl line ${line}, .*signature does not verify`),
    );
  });

  test('a frontier validly signed that does not fold to its root: the start is refused, naming it', async () => {
    const t = await segmentedLog();
    const { line, checkpoint } = frontierCheckpoint(t);
    const signer = await loadOrCreateCheckpointKey(t.config.signing_key, 'EdDSA');
    const frontier = checkpoint.frontier!.map((node, i) => (i === 0 ? 'ab'.repeat(32) : node));
    const { sig: _, ...payload } = checkpoint;
    replaceCheckpoint(t.dir, line, await signCheckpoint({ ...payload, frontier }, signer));
    expect(await refusal(t)).toMatch(
      new RegExp(`checkpoint \\(checkpoints.jsonl line ${line}, .*frontier does not fold to the checkpoint's root`),
    );
    const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(verify.json.problems[0].message).toMatch(/^frontier does not match the tree of entries 0\.\./);
  });
});

describe('the latest segment is still verified in full at start', () => {
  test('an entry in it edited and hashed again: refused by the checkpoint covering it', async () => {
    const t = await segmentedLog();
    rehashEntry(t.dir, segmentsOf(t.dir).at(-1)!, 1, (body) => body.replace('mock-eid', 'mock-eix'));
    expect(await refusal(t)).toMatch(/fails verification: checkpoint .*root does not match entries/);
  });

  test('a forged entry appended to it (leaf hash right, MAC made up): refused', async () => {
    const t = await segmentedLog();
    const path = join(t.dir, segmentsOf(t.dir).at(-1)!);
    const lines = readFileSync(path, 'utf8').split('\n').slice(0, -1);
    const { entry, body } = decodeEntryLine(Buffer.from(lines.at(-1)!));
    const forged = body
      .toString()
      .replace(`"i":${entry.i},`, `"i":${entry.i + 1},`)
      .replace(/"mac":"[0-9a-f]+"/, `"mac":"${'0'.repeat(64)}"`);
    writeFileSync(path, `${readFileSync(path, 'utf8')}${encodeEntryLine(forged).line}`);
    expect(await refusal(t)).toMatch(/entry MAC does not verify/);
  });
});

describe('a log without a frontier (written before checkpoints carried one)', () => {
  /** The log as an earlier writer left it: the same checkpoints, signed without a frontier. */
  async function withoutFrontiers(t: TestLog): Promise<void> {
    const signer = await loadOrCreateCheckpointKey(t.config.signing_key, 'EdDSA');
    for (const { line, checkpoint } of checkpointLines(t.dir)) {
      const { sig: _, frontier: __, ...payload } = checkpoint;
      replaceCheckpoint(t.dir, line, await signCheckpoint(payload, signer));
    }
  }

  test('is read whole at start, and starts', async () => {
    const t = await segmentedLog();
    await withoutFrontiers(t);
    const log = await t.open();
    expect(openedLine(t).verified_at_start).toBe('all');
    expect(log.background).toBeUndefined();
    await log.close();
  });

  test('an entry of its first segment edited is refused at start', async () => {
    const t = await segmentedLog();
    await withoutFrontiers(t);
    rehashEntry(t.dir, segmentsOf(t.dir)[0]!, 2, (body) => body.replace('mock-eid', 'mock-eix'));
    expect(await refusal(t)).toMatch(/fails verification: checkpoint .*root does not match entries 0\.\.4/);
  });
});

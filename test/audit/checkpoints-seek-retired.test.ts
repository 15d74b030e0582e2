// A log whose old segments were retired begins at the marker's frontier checkpoint, which lies before the latest
// segment's: the start finds both in checkpoints.jsonl by its search (the marker's signature and its checkpoint's
// checked), reads the file from the latest one, and leaves the lines before it, the marker's checkpoint among
// them, to the pass after the start. A marker's checkpoint whose signature does not verify is refused as before.
import { decodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { refusal, type TestLog } from './helpers.ts';
import { configured, firstOf, markerOf, oldLog, openAndRetire } from './support/old-log.ts';
import { checkpointLines, openedLine, segmentsOf } from './support/segmented-log.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** An old log with its old segments retired, closed again; the lines of its checkpoints.jsonl. */
async function retiredLog(): Promise<{ t: TestLog; S: number; lines: string[] }> {
  const t = configured(await oldLog());
  await (await openAndRetire(t)).close();
  t.logger.lines.length = 0;
  const lines = readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8').split(/(?<=\n)/);
  return { t, S: markerOf(t).before, lines };
}

/** 1-based line of the frontier checkpoint of `size` */
const frontierLine = (t: TestLog, size: number) =>
  checkpointLines(t.dir).findLast(({ checkpoint }) => checkpoint.size === size && checkpoint.frontier)!.line;

test('the start reads checkpoints.jsonl from the latest frontier checkpoint; the retirement holds', async () => {
  const { t, S } = await retiredLog();
  const latest = firstOf(segmentsOf(t.dir).at(-1)!);
  expect(latest).toBeGreaterThan(S);
  const opened = await openAndRetire(t);
  expect(openedLine(t).checkpoints_read_from).toMatchObject({ checkpoint: frontierLine(t, latest) - 1 });
  expect(await opened.background!.done).toBe(true);
  expect(opened.status()).toMatchObject({ healthy: true });
  await opened.close();
});

test("a line between the marker's checkpoint and the latest frontier checkpoint removed: failed closed after the start", async () => {
  const { t, S, lines } = await retiredLog();
  const line = frontierLine(t, S) + 1;
  expect(line).toBeLessThan(frontierLine(t, firstOf(segmentsOf(t.dir).at(-1)!)));
  // every line still a checkpoint (a probe on a damaged line would read the file through, and refuse)
  writeFileSync(join(t.dir, CHECKPOINTS_FILE), lines.toSpliced(line - 1, 1).join(''));
  const opened = await t.open();
  expect(openedLine(t).checkpoints_read_from).toMatchObject({ checkpoint: expect.any(Number) });
  expect(await opened.background!.done).toBe(false);
  expect(opened.status()).toMatchObject({ healthy: false, error: expect.stringContaining(`line ${line}, byte`) });
  expect(opened.status().error).toContain('checkpoints removed, inserted or reordered');
  await opened.close();
});

test("the marker's frontier checkpoint with a signature that does not verify: the start is refused, as before", async () => {
  const { t, S, lines } = await retiredLog();
  const line = frontierLine(t, S);
  const other = decodeCheckpointLine(lines[line - 2]!.trimEnd()).sig;
  const forged = lines[line - 1]!.replace(/"sig":"[^"]+"/, `"sig":"${other}"`);
  writeFileSync(join(t.dir, CHECKPOINTS_FILE), lines.with(line - 1, forged).join(''));
  const refused = await refusal(t);
  expect(refused).toContain(`retirement marker says the log begins at entry ${S}`);
  expect(refused).toContain('fails verification');
});

// The start reads checkpoints.jsonl from the latest segment's frontier checkpoint, the one it grows the tree from,
// found by a binary search on byte offsets, not from the file's first line (the file is never rolled over: 2 GiB a
// year). A checkpoint line before it that is damaged no longer stops the start: the pass after the start, which
// verifies the older segments, checks those lines too (form, numbers running into that checkpoint, sizes, times)
// and fails the log closed naming the line; `audit verify` names it. Damage from that checkpoint on is refused at
// start as before.
import { rmSync } from 'node:fs';
import { decodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { CompactTree } from '../../src/audit/merkle.ts';
import { cli, loginEvents, refusal } from './helpers.ts';
import { type FrontierCheckpoints, frontierCheckpoints } from './support/frontier-checkpoints.ts';
import { openedLine } from './support/segmented-log.ts';

const BEFORE = 60_000;
let log: FrontierCheckpoints;
beforeAll(async () => {
  log = await frontierCheckpoints(BEFORE);
}, 120_000);
beforeEach(() => log.restore());
afterAll(() => rmSync(log.t.root, { recursive: true, force: true }));

const decode = (line: string) => decodeCheckpointLine(line.trimEnd());
/** where the start says it read checkpoints.jsonl from */
const readFrom = () => openedLine(log.t).checkpoints_read_from;
/** what the start says when the frontier checkpoint lies at line `line` of `lines` */
const fromFrontier = (lines = log.lines) => ({
  checkpoint: log.frontierLine - 1,
  byte: log.offsetOf(lines.indexOf(log.lines[log.frontierLine - 1]!) + 1, lines),
});
const at = (line: number, lines = log.lines) => `${CHECKPOINTS_FILE} line ${line}, byte ${log.offsetOf(line, lines)})`;

test('the start reads checkpoints.jsonl from the frontier checkpoint; the lines before it verify after the start', async () => {
  expect(log.frontierLine).toBeGreaterThan(BEFORE);
  const opened = await log.t.open();
  expect(readFrom()).toEqual(fromFrontier());
  expect(openedLine(log.t).checkpoints).toBe(log.lines.length);
  expect(await opened.background!.done).toBe(true);
  expect(opened.status()).toMatchObject({ healthy: true });
  await opened.close();
});

describe('a checkpoint line before the frontier checkpoint damaged: the start goes on, the pass after it fails the log closed, naming the line', () => {
  const EARLY = 1000;
  const empty = new CompactTree().root().toString('hex');
  // each damage, and the line named (1-based, in the damaged file)
  const cases: [string, (lines: string[]) => Promise<string[]>, () => number][] = [
    ['a line that is not JSON', async (lines) => lines.with(EARLY - 1, `x${lines[EARLY - 1]!.slice(1)}`), () => EARLY],
    ['a line removed (a gap in the numbers)', async (lines) => lines.toSpliced(EARLY - 1, 1), () => EARLY],
    [
      'a tree size going backwards (validly signed)',
      async (lines) => lines.with(EARLY - 1, await log.sign({ ...decode(lines[EARLY - 1]!), size: 0, root: empty })),
      () => EARLY,
    ],
    [
      'the line just before the frontier checkpoint removed (the numbers do not run into it)',
      async (lines) => lines.toSpliced(log.frontierLine - 2, 1),
      () => log.frontierLine - 1, // the frontier checkpoint's own line, one earlier than built
    ],
  ];
  test.each(cases)(
    '%s',
    async (_, damage, named) => {
      const line = named();
      const damaged = await damage(log.lines);
      log.write(damaged);
      const opened = await log.t.open();
      expect(readFrom()).toEqual(fromFrontier(damaged));
      expect(await opened.background!.done).toBe(false);
      expect(opened.status()).toMatchObject({ healthy: false, error: expect.stringContaining(at(line, damaged)) });
      await expect(opened.record(loginEvents(99)[0]!)).rejects.toBeInstanceOf(AuditUnavailableError);
      const errors = log.t.logger.lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'error');
      expect(errors).toEqual([
        expect.objectContaining({
          msg: 'audit log fails verification of its older segments; refusing further events until restart',
          file: CHECKPOINTS_FILE,
          problem: expect.stringContaining(at(line, damaged)),
        }),
      ]);
      await opened.close();
      const verify = await cli('verify', log.t.dir, '--public-key', log.t.publicKey, '--json');
      expect(verify.code).toBe(1);
      expect(verify.json.problems[0].position).toEqual({
        file: CHECKPOINTS_FILE,
        line,
        offset: log.offsetOf(line, damaged),
      });
    },
    60_000,
  );
});

describe('damage from the frontier checkpoint on is refused at start, as before', () => {
  test('a later checkpoint validly signed over another root', async () => {
    const line = log.frontierLine + 1;
    const forged = await log.sign({ ...decode(log.lines[line - 1]!), root: 'ab'.repeat(32) });
    log.write(log.lines.with(line - 1, forged));
    expect(await refusal(log.t)).toMatch(`fails verification: checkpoint (${at(line)}: root does not match entries`);
  });

  test('a later line that is not JSON', async () => {
    const line = log.frontierLine + 1;
    log.write(log.lines.with(line - 1, `x${log.lines[line - 1]!.slice(1)}`));
    expect(await refusal(log.t)).toContain(`checkpoint (${at(line)}: checkpoint is not valid JSON`);
  });

  test("the latest checkpoint's signature taken from another checkpoint", async () => {
    const last = log.lines.length;
    const other = decode(log.lines[last - 2]!).sig;
    log.write(log.lines.with(last - 1, log.lines[last - 1]!.replace(/"sig":"[^"]+"/, `"sig":"${other}"`)));
    expect(await refusal(log.t)).toMatch(`checkpoint (${at(last)}: signature does not verify`);
  });

  test('a torn last line is named as before, and repaired', async () => {
    log.write([...log.lines, '{"n":']);
    const torn = `torn tail at (${at(log.lines.length + 1, [...log.lines, ''])}`;
    expect(await refusal(log.t)).toContain(`has a torn tail (an interrupted write, never acknowledged): ${torn}`);
    const repaired = await log.t.open({ tornTail: 'repair' });
    expect(repaired.repaired).toEqual([
      expect.objectContaining({ file: CHECKPOINTS_FILE, line: log.lines.length + 1 }),
    ]);
    expect(readFrom()).toEqual(fromFrontier());
    await repaired.close();
  });

  test('a last line of zeroed bytes (a power cut) is a torn tail, as before', async () => {
    const last = log.lines.length;
    const zeroed = log.lines.with(last - 1, `${'\0'.repeat(log.lines[last - 1]!.length - 1)}\n`);
    log.write(zeroed);
    const verify = await cli('verify', log.t.dir, '--public-key', log.t.publicKey, '--json');
    expect(verify.json.problems).toEqual([
      expect.objectContaining({
        kind: 'torn',
        position: { file: CHECKPOINTS_FILE, line: last, offset: log.offsetOf(last) },
      }),
    ]);
    expect(await refusal(log.t)).toContain(
      `has a torn tail (an interrupted write, never acknowledged): torn tail at (${at(last)}`,
    );
  });
});

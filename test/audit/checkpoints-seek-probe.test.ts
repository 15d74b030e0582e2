// The start's search for the frontier checkpoint in checkpoints.jsonl, and what it leaves to the file: a witness
// far behind that checkpoint is still looked up in the file (and a log cut back behind its witness still refused),
// and a search whose probe lands on a line that is no checkpoint gives up and reads the file through, as the start
// did before, refusing the damage it then finds. A log of one segment is read through as before.
import { rmSync, writeFileSync } from 'node:fs';
import { decodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { witnessPath } from '../../src/audit/config.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { cli, loginEvents, refusal, testLog } from './helpers.ts';
import { type FrontierCheckpoints, frontierCheckpoints } from './support/frontier-checkpoints.ts';
import { openedLine } from './support/segmented-log.ts';

let log: FrontierCheckpoints;
beforeAll(async () => {
  log = await frontierCheckpoints(60_000);
}, 120_000);
beforeEach(() => log.restore());
afterAll(() => rmSync(log.t.root, { recursive: true, force: true }));

const decode = (line: string) => decodeCheckpointLine(line.trimEnd());
const readFrom = () => openedLine(log.t).checkpoints_read_from;
const sizeOf = (lines: string[]) => log.offsetOf(lines.length + 1, lines);

describe('a witness far behind the checkpoint the start reads from', () => {
  test('is found in the file: the start goes on when it agrees', async () => {
    writeFileSync(witnessPath(log.t.config), log.lines[100]!);
    const opened = await log.t.open();
    expect(readFrom()).toMatchObject({ checkpoint: log.frontierLine - 1 });
    expect(await opened.background!.done).toBe(true);
    await opened.close();
  });

  test('refuses the start when it differs', async () => {
    const rewritten = await log.sign({ ...decode(log.lines[100]!), root: decode(log.lines[5000]!).root });
    expect(decode(rewritten).root).not.toBe(decode(log.lines[100]!).root);
    writeFileSync(witnessPath(log.t.config), rewritten);
    expect(await refusal(log.t)).toContain('checkpoint 100 differs in root');
  });

  test('a log cut back behind its witness is refused', async () => {
    // the witness holds the latest checkpoint; the file keeps everything up to the frontier checkpoint
    log.write(log.lines.slice(0, log.frontierLine));
    expect(await refusal(log.t)).toContain(`the log is shorter than witness file ${witnessPath(log.t.config)}`);
  });
});

/** The 1-based line the search's first probe decodes in `lines`: the first that begins at half the file or after. */
function firstProbe(lines: string[]): number {
  const half = Math.floor(sizeOf(lines) / 2);
  let offset = 0;
  for (const [k, line] of lines.entries()) {
    if (offset >= half) return k + 1;
    offset += Buffer.byteLength(line);
  }
  throw new Error('no line after half the file');
}

describe('a probe of the search lands on a line that is no checkpoint: the file is read through, as before', () => {
  /** the refusal names `line`, as `audit verify` does */
  async function refusedAt(lines: string[], line: number, message: string) {
    log.write(lines);
    const verify = await cli('verify', log.t.dir, '--public-key', log.t.publicKey, '--json');
    expect(verify.json.problems[0]).toEqual({
      kind: 'checkpoint',
      position: { file: CHECKPOINTS_FILE, line, offset: log.offsetOf(line, lines) },
      message,
    });
    expect(await refusal(log.t)).toContain(
      `fails verification: checkpoint (${CHECKPOINTS_FILE} line ${line}, byte ${log.offsetOf(line, lines)}): ${message}`,
    );
  }

  test('a line that is not JSON', async () => {
    const line = firstProbe(log.lines); // the same length: the probe lands on it
    await refusedAt(
      log.lines.with(line - 1, `x${log.lines[line - 1]!.slice(1)}`),
      line,
      'checkpoint is not valid JSON',
    );
  }, 60_000);

  test('zeroed bytes in the middle of the file', async () => {
    const line = firstProbe(log.lines); // the zeroed bytes run from inside it over the next few lines
    const from = log.offsetOf(line) + 10;
    const bytes = Buffer.from(log.lines.join(''));
    bytes.fill(0, from, from + 2048);
    const lines = bytes.toString('latin1').split(/(?<=\n)/);
    await refusedAt(lines, line, 'checkpoint is not valid JSON');
  }, 60_000);

  // longer than the probe's window, and longer than a checkpoint only by a little
  test.each([20_000, 6_000])(
    'a line of %i bytes, longer than any checkpoint',
    async (length) => {
      const long = `${'{'.repeat(length - 1)}\n`;
      // a line near the middle whose replacement by `long` puts the first probe in it, over 4 KiB before its end
      const fits = (line: number) => {
        const lines = log.lines.with(line - 1, long);
        const start = log.offsetOf(line, lines);
        const half = Math.floor(sizeOf(lines) / 2);
        return start < half - 1 && start + length - half > 4200;
      };
      const middle = firstProbe(log.lines);
      const line = [...Array(40).keys()].map((k) => middle - 20 + k).find(fits)!;
      const lines = log.lines.with(line - 1, long);
      await refusedAt(
        lines,
        line,
        `line of ${length - 1} bytes, longer than any checkpoint (${CHECKPOINTS_FILE} altered)`,
      );
    },
    60_000,
  );
});

test('a log of one segment reads checkpoints.jsonl through at start, as before', async () => {
  const t = testLog({ checkpoint_every: 2 });
  const opened = await t.open();
  for (const e of loginEvents(1)) await opened.record(e);
  await opened.close();
  t.logger.lines.length = 0;
  const again = await t.open();
  expect(openedLine(t)).toMatchObject({ verified_at_start: 'all', checkpoints_read_from: 'all' });
  await again.close();
  rmSync(t.root, { recursive: true, force: true });
});

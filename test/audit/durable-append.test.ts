// record() resolves only once its entry is on disk. The log's files are opened with O_DSYNC, so each
// write(2) returns only after its data (and the file size needed to read it back) reached the device. A
// power cut cannot be staged here, so the test reads what the kernel holds for each open file
// (/proc/self/fdinfo): every file the writer appends to (a new segment, the tail segment of a reopened
// log, a segment started on roll-over, the checkpoints file) must carry O_DSYNC and O_APPEND.
import { constants, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { testLog } from './helpers.ts';

const linux = process.platform === 'linux';

/** The open flags of every descriptor of this process open on a file in dir, by file name. */
function openFlags(logDir: string): Map<string, number> {
  const dir = realpathSync(logDir); // the links name the resolved path (TMPDIR may be a symbolic link)
  const flags = new Map<string, number>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed while listing
    }
    if (!target.startsWith(`${dir}/`)) continue;
    const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const octal = /^flags:\s+([0-7]+)$/m.exec(info)?.[1];
    if (octal) flags.set(target.slice(dir.length + 1), Number.parseInt(octal, 8));
  }
  return flags;
}

function expectDurableAppend(flags: number | undefined): void {
  expect(flags).toBeDefined();
  expect(flags! & constants.O_DSYNC).toBe(constants.O_DSYNC);
  expect(flags! & constants.O_APPEND).toBe(constants.O_APPEND);
}

(linux ? test : test.skip)('a new log appends to its segment and checkpoints with O_DSYNC', async () => {
  const t = testLog();
  const log = await t.open();
  await log.record({ type: 'config_loaded', detail: { digest: 'sha256:first' } });
  await log.checkpoint();
  const flags = openFlags(t.dir);
  expectDurableAppend(flags.get('segment-000000000000.jsonl'));
  expectDurableAppend(flags.get('checkpoints.jsonl'));
  await log.close();
  expect(openFlags(t.dir).size).toBe(0);
});

(linux ? test : test.skip)('a reopened log appends to its tail segment with O_DSYNC', async () => {
  const t = testLog();
  const first = await t.open();
  await first.record({ type: 'config_loaded', detail: { digest: 'sha256:first' } });
  await first.close();
  const log = await t.open();
  await log.record({ type: 'config_loaded', detail: { digest: 'sha256:second' } });
  const flags = openFlags(t.dir);
  expect([...flags.keys()].filter((name) => name.startsWith('segment-'))).toEqual(['segment-000000000000.jsonl']);
  expectDurableAppend(flags.get('segment-000000000000.jsonl'));
  expectDurableAppend(flags.get('checkpoints.jsonl'));
  await log.close();
});

(linux ? test : test.skip)('a segment started on roll-over is opened with O_DSYNC too', async () => {
  const t = testLog({ segment_max_bytes: 4096 });
  const log = await t.open();
  for (let k = 0; k < 40; k++) await log.record({ type: 'config_loaded', detail: { digest: `sha256:${k}` } });
  const segments = readdirSync(t.dir).filter((name) => name.startsWith('segment-'));
  expect(segments.length).toBeGreaterThan(1);
  const flags = openFlags(t.dir);
  const open = [...flags.keys()].filter((name) => name.startsWith('segment-'));
  expect(open).toEqual([segments.at(-1)]);
  expectDurableAppend(flags.get(open[0]!));
  await log.close();
});

// A start that has made its log but cannot record what the start did (a torn tail moved aside,
// `audit_log_repaired`; a dead writer's lock taken over, `audit_writer_lock_taken_over`) is refused, and the
// log it made must end with it: its writer lock released, its checkpoint timer stopped (it would hand the
// latest checkpoint to the witnesses on every tick, after the lock is released, so a later writer's newer
// witness could be set back within the same process), and the verification of its older segments stopped.
// Here the records are refused because their durable write fails: another writer on the directory (two
// gateways over NFSv2, where writer.lock's O_EXCL is not atomic) appends to the latest segment after the
// start opened it, and the start's write finds the segment no longer ending where it left it. (A witness that
// cannot be updated no longer refuses these records: they are begun before the log learns of it, see
// repairs-recorded-together.test.ts.)
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { witnessPath } from '../../src/audit/config.ts';
import { WRITER_LOCK_FILE } from '../../src/audit/format.ts';
import { FileWitness } from '../../src/audit/witness.ts';
import { memoryLogger } from '../../src/logger.ts';
import { until } from '../store/redis-processes.ts';
import { loginEvents, type TestLog, testLog } from './helpers.ts';
import { openWith, ReadOnlyVolumeWitness } from './start-witness.ts';

/** The witness, its volume read-only, whose first write is when another writer's bytes land in the latest
 * segment of the log: the log begins that write on opening, after its segment is open and before anything
 * the start records is written. The other writer is cut off mid-line (no newline): a torn tail the next start
 * repairs. With the witness failing, a checkpoint timer left running would show: it hands the latest
 * checkpoint to the witness again on every tick while the witness is behind. */
class OtherWriterWitness extends ReadOnlyVolumeWitness {
  private readonly segment: string;
  constructor(t: TestLog) {
    super(witnessPath(t.config));
    this.segment = join(t.dir, latestSegment(t));
  }
  override async write(): Promise<void> {
    if (this.writes === 0) appendFileSync(this.segment, '{"leaf":"ff');
    await super.write();
  }
}

const latestSegment = (t: TestLog): string =>
  readdirSync(t.dir)
    .filter((f) => f.startsWith('segment-'))
    .sort()
    .at(-1)!;

/** The real file witness, telling when a write has ended. */
class WatchedWitness extends FileWitness {
  private waiting: (() => void)[] = [];
  override async write(line: string): Promise<void> {
    await super.write(line);
    for (const done of this.waiting.splice(0)) done();
  }
  nextWrite(): Promise<void> {
    return new Promise((done) => this.waiting.push(done));
  }
}

/** A closed log of several segments (a start verifies the older ones after it, in a worker thread) with a
 * torn tail in its latest segment, and a checkpoint tick of 20 ms. */
async function tornLog(): Promise<TestLog> {
  const t = testLog({ segment_max_bytes: 4096, checkpoint_interval_ms: 20 });
  const log = await t.open();
  for (let n = 0; n < 12; n += 1) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
  expect(readdirSync(t.dir).filter((f) => f.startsWith('segment-')).length).toBeGreaterThan(2);
  appendFileSync(join(t.dir, latestSegment(t)), '{"leaf":"abc');
  return t;
}

/** Starts the log of `t` while another writer appends to its latest segment: the start's records are refused,
 * and so the start. Then the refused start must have left nothing running and nothing held: the next start
 * (the other writer gone, the witness volume back) opens at once, and over several of its checkpoint ticks
 * and its own verification of the older segments the refused log neither writes its witness nor reports on
 * its older segments. */
async function expectRefusedAndEnded(t: TestLog): Promise<void> {
  const refused = new OtherWriterWitness(t);
  const refusedLogger = memoryLogger();
  await expect(openWith(t, refused, refusedLogger)).rejects.toThrow(
    /^audit log unavailable: cannot write to .* where this writer left \d+: another process writes this log/,
  );
  expect(refused.writes).toBeGreaterThan(0);
  // it had begun verifying its older segments after the start
  expect(refusedLogger.lines.find((l) => l.includes('audit log opened'))).toContain('"verifying_after_start"');
  const tried = refused.writes;

  const witness = new WatchedWitness(witnessPath(t.config));
  const next = await openWith(t, witness, t.logger);
  try {
    // the other writer's cut-off line
    expect(next.repaired.map((r) => r.length)).toEqual([11]);
    await next.checkpoint(); // its own catch-up write to the witness has ended
    for (const e of loginEvents(100).slice(0, 5)) {
      const written = witness.nextWrite();
      await next.record(e);
      await written; // the tick checkpointed it
    }
    await until(
      async () => t.logger.lines.some((l) => l.includes('audit log older segments verified')),
      'the next start to verify its older segments',
    );
    expect(next.status()).toMatchObject({ healthy: true });
  } finally {
    await next.close();
  }
  expect(refused.writes).toBe(tried);
  expect(refusedLogger.lines.filter((l) => l.includes('older segments'))).toEqual([]);
}

test('the lock takeover cannot be recorded: the start is refused, and its log is closed, its lock released', async () => {
  const t = await tornLog();
  const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
  writeFileSync(
    join(t.dir, WRITER_LOCK_FILE),
    `${JSON.stringify({ pid: dead, host: hostname(), started: '2025-01-31T12:00:00.000Z', token: 'old' })}\n`,
  );
  await expectRefusedAndEnded(t);
});

test('the repair cannot be recorded: the start is refused, and its log is closed', async () => {
  await expectRefusedAndEnded(await tornLog());
});

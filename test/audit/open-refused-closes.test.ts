// A start that has made its log but cannot record what the start did (a torn tail moved aside,
// `audit_log_repaired`; a dead writer's lock taken over, `audit_writer_lock_taken_over`) is refused, and the
// log it made must end with it: its writer lock released, its checkpoint timer stopped (it would hand the
// latest checkpoint to the witnesses on every tick, after the lock is released, so a later writer's newer
// witness could be set back within the same process), and the verification of its older segments stopped.
// Here the record is refused because the witness cannot be updated: its volume has gone read-only.
import { execFileSync } from 'node:child_process';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { witnessPath } from '../../src/audit/config.ts';
import { CHECKPOINTS_FILE, WRITER_LOCK_FILE } from '../../src/audit/format.ts';
import { FileWitness } from '../../src/audit/witness.ts';
import { memoryLogger } from '../../src/logger.ts';
import { until } from '../store/redis-processes.ts';
import { loginEvents, type TestLog, testLog } from './helpers.ts';
import { openWith, ReadOnlyVolumeWitness } from './start-witness.ts';

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
  const segments = readdirSync(t.dir).filter((f) => f.startsWith('segment-'));
  expect(segments.length).toBeGreaterThan(2);
  appendFileSync(join(t.dir, segments.sort().at(-1)!), '{"leaf":"abc');
  return t;
}

/** Starts the log of `t` with its witness volume read-only: the first record of the start (a repair) is taken,
 * the witness write the log began on opening failing meanwhile; the next is refused, and so the start. Then
 * the refused start must have left nothing running and nothing held: the next start (its witness volume
 * back) opens at once, and over several of its checkpoint ticks and its own verification of the older
 * segments the refused log neither writes its witness nor reports on its older segments. */
async function expectRefusedAndEnded(t: TestLog): Promise<void> {
  const refused = new ReadOnlyVolumeWitness(witnessPath(t.config));
  const refusedLogger = memoryLogger();
  await expect(openWith(t, refused, refusedLogger)).rejects.toThrow(
    'audit log unavailable: cannot update the audit witness (EROFS)',
  );
  expect(refused.writes).toBeGreaterThan(0);
  // it had begun verifying its older segments after the start
  expect(refusedLogger.lines.find((l) => l.includes('audit log opened'))).toContain('"verifying_after_start"');
  const tried = refused.writes;

  const witness = new WatchedWitness(witnessPath(t.config));
  const next = await openWith(t, witness, t.logger);
  try {
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

test('the second of two repairs cannot be recorded: the start is refused, and its log is closed', async () => {
  const t = await tornLog();
  appendFileSync(join(t.dir, CHECKPOINTS_FILE), '{"n":');
  await expectRefusedAndEnded(t);
});

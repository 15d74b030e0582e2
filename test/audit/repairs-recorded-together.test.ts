// A repair is recorded in the log it repaired, however many torn tails the start moved aside. The start
// records them together: were they recorded one after the other, a witness that cannot be updated (its
// failure learned from the log's first witness write, begun on opening) would let the first record through
// and refuse the second, and the start with it, the tail already moved aside then never recorded (the next
// start finds nothing left to repair). Recorded together they are written in one durable write; the start is
// accepted, and the log, as on any witness failure, is not ready and refuses the next event.
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { witnessPath } from '../../src/audit/config.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { FileWitness } from '../../src/audit/witness.ts';
import { cli, loginEvents, testLog } from './helpers.ts';
import { openWith, ReadOnlyVolumeWitness } from './start-witness.ts';

test('two torn tails repaired with the witness volume read-only: both repairs are recorded', async () => {
  const t = testLog();
  const log = await t.open();
  for (let n = 0; n < 2; n += 1) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
  const segment = readdirSync(t.dir).find((f) => f.startsWith('segment-'))!;
  appendFileSync(join(t.dir, segment), '{"leaf":"abc');
  appendFileSync(join(t.dir, CHECKPOINTS_FILE), '{"n":');

  const witness = new ReadOnlyVolumeWitness(witnessPath(t.config));
  const started = await openWith(t, witness, t.logger); // accepted
  try {
    expect(witness.writes).toBeGreaterThan(0);
    // both repairs in one durable write; then not ready, as on any witness failure
    expect(started.status()).toMatchObject({
      healthy: false,
      error: 'cannot update the audit witness (EROFS)',
      writes: 1,
    });
    await expect(started.record(loginEvents(2)[0]!)).rejects.toThrow(
      'audit log unavailable: cannot update the audit witness (EROFS)',
    );
  } finally {
    await started.close();
  }
  const recorded = await cli('query', t.dir, '--event', 'audit_log_repaired', '--json');
  expect(recorded.json.entries.map((e: { detail: { file: string; length: number } }) => e.detail)).toEqual([
    expect.objectContaining({ file: CHECKPOINTS_FILE, length: 5 }),
    expect.objectContaining({ file: segment, length: 12 }),
  ]);

  // its witness volume back, the log opens with nothing left to repair
  const next = await openWith(t, new FileWitness(witnessPath(t.config)), t.logger);
  try {
    expect(next.repaired).toEqual([]);
    await next.checkpoint();
    expect(next.status()).toMatchObject({ healthy: true });
  } finally {
    await next.close();
  }
});

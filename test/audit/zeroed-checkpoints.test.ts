// checkpoints.jsonl after a power cut: the writer appends one checkpoint per durable write, each after the one
// before it is on disk, so only its last line can hold the zeroed pages of a write that never landed (the
// rest of that line after them, when its later page did). That last line is a torn tail, moved aside by
// `audit repair`. Zeroed bytes in a line a later one follows are damage; so is a zeroed checkpoint the witness
// holds (written only after the checkpoint was durable): the log without it is shorter than the witness, and
// neither the start nor a repair moves anything.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { crashedLog, tornFiles, zeroedPage } from './crashed-log.ts';
import { cli, entries, refusal } from './helpers.ts';

/** checkpoint 1's line with its first `zeroed` bytes zeroed, appended to checkpoints.jsonl as a cut leaves it */
async function zeroedCheckpoint(zeroed: number) {
  const crashed = await crashedLog();
  const path = join(crashed.t.dir, CHECKPOINTS_FILE);
  const before = readFileSync(path);
  const tail = Buffer.concat([zeroedPage(zeroed), crashed.unwritten.subarray(zeroed)]);
  writeFileSync(path, Buffer.concat([before, tail]));
  return { ...crashed, path, before, tail };
}

test('a last checkpoint line that begins with zeroed bytes is a torn tail, repaired', async () => {
  const { t, config, before, tail } = await zeroedCheckpoint(120);
  const verify = await cli('verify', t.dir, '--config', config, '--json');
  expect(verify.json.problems).toEqual([
    {
      kind: 'torn',
      position: { file: CHECKPOINTS_FILE, line: 2, offset: before.length },
      message: `${tail.length} bytes from a last line of zeroed bytes (NUL) on: a checkpoint write a power cut interrupted`,
    },
  ]);
  expect(await refusal(t)).toContain(
    `has a torn tail (an interrupted write, never acknowledged): torn tail at (${CHECKPOINTS_FILE} line 2, byte ${before.length})`,
  );

  const repair = await cli('repair', '--config', config, '--json');
  expect(repair.code).toBe(0);
  const movedTo = `torn/${CHECKPOINTS_FILE}.${before.length}.torn`;
  expect(repair.json.repaired).toEqual([
    { file: CHECKPOINTS_FILE, offset: before.length, length: tail.length, line: 2, moved_to: movedTo },
  ]);
  expect(readFileSync(join(t.dir, movedTo)).equals(tail)).toBe(true);
  // entries 7 and 8 are checkpointed anew, with the repair's own record
  expect(
    entries(t.dir)
      .map((e) => e.type)
      .at(-1),
  ).toBe('audit_log_repaired');
  const after = await cli('verify', t.dir, '--config', config, '--json');
  expect(after.json.problems).toEqual([]);
  expect(after.json.witness_problems).toEqual([]);
  expect(await refusal(t)).toBe('opened');
});

test('a checkpoint line zeroed whole (its newline landed on the next page) is torn too', async () => {
  const { t, unwritten, before } = await zeroedCheckpoint(0);
  writeFileSync(
    join(t.dir, CHECKPOINTS_FILE),
    Buffer.concat([before, zeroedPage(unwritten.length - 1), Buffer.from('\n')]),
  );
  const log = await t.open({ tornTail: 'repair' });
  expect(log.repaired.map(({ file, offset, line }) => ({ file, offset, line }))).toEqual([
    { file: CHECKPOINTS_FILE, offset: before.length, line: 2 },
  ]);
  await log.close();
  expect(readFileSync(join(t.dir, CHECKPOINTS_FILE)).subarray(0, before.length).equals(before)).toBe(true);
});

test('zeroed bytes in a checkpoint line another line follows are damage, not repairable', async () => {
  const { t, config, path, before, unwritten } = await zeroedCheckpoint(120);
  // a later line (here the checkpoint again, whole): the zeroed one was durable before it
  writeFileSync(path, Buffer.concat([readFileSync(path), unwritten]));
  const verify = await cli('verify', t.dir, '--config', config, '--json');
  expect(verify.json.problems.map((p: { kind: string }) => p.kind)).not.toContain('torn');
  expect(verify.json.first_bad.position).toEqual({ file: CHECKPOINTS_FILE, line: 2, offset: before.length });
  const refused = await refusal(t);
  expect(refused).toContain(`fails verification: checkpoint (${CHECKPOINTS_FILE} line 2, byte ${before.length})`);
  const repair = await cli('repair', '--config', config, '--json');
  expect(repair.code).toBe(1);
  expect(tornFiles(t.dir)).toEqual([]);
});

test('a last line that is no checkpoint and holds no zeroed bytes stays damage', async () => {
  const { t, config, path, before, unwritten } = await zeroedCheckpoint(0);
  writeFileSync(path, Buffer.concat([before, Buffer.alloc(120, ' '), unwritten.subarray(120)]));
  expect(await refusal(t)).toContain(
    `fails verification: checkpoint (${CHECKPOINTS_FILE} line 2, byte ${before.length})`,
  );
  expect((await cli('repair', '--config', config, '--json')).code).toBe(1);
  expect(tornFiles(t.dir)).toEqual([]);
});

test('a zeroed checkpoint the witness holds is refused by the witness, at the start and by a repair', async () => {
  const { t, config, path, witness, witnessedLater } = await zeroedCheckpoint(120);
  // the witness got checkpoint 1 (only ever after it was durable): its zeroed bytes are no interrupted write
  writeFileSync(witness, witnessedLater);
  const zeroed = readFileSync(path);

  const verify = await cli('verify', t.dir, '--config', config, '--json');
  expect(verify.json.ok).toBe(false);
  expect(verify.json.witness_problems.join()).toContain('the log is shorter than witness');
  // the scan alone (which knows no witness) sees a torn tail; nothing moves it while the witness holds it
  expect(await refusal(t)).toContain('has a torn tail');
  await expect(t.open({ tornTail: 'repair' })).rejects.toThrow('the log is shorter than witness');
  const repair = await cli('repair', '--config', config);
  expect(repair.code).not.toBe(0);
  expect(repair.stderr).toContain('the log is shorter than witness');
  expect(tornFiles(t.dir)).toEqual([]);
  expect(readFileSync(path).equals(zeroed)).toBe(true);
});

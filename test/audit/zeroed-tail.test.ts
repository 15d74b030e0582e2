// A power cut during a write that extended the file before its data landed (a group commit over several pages;
// ext4 data=writeback, XFS) leaves the write's pages zeroed (NUL bytes), possibly followed by complete lines of
// pages that did land. Past the latest checkpoint, in the last segment, that is a torn tail: the start names it
// and `audit repair` (or torn_tail: repair) moves it aside into torn/, whole. NULs a checkpoint covers, in an
// older segment, or a line that is no entry and holds no NUL stay damage, which no repair hides.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { lineStarts, useTamperedLog, written } from './tampered-log.ts';
import { crashedLog, tornFiles, zeroedPage } from './crashed-log.ts';
import { cli, configFile, copyDir, entries, refusal, type TestLog } from './helpers.ts';

/** The start refused, `audit repair` refused, nothing moved: what damage gets. */
async function refusedAsDamage(t: TestLog, config: string, where: string): Promise<void> {
  const refused = await refusal(t);
  expect(refused).toContain('fails verification');
  expect(refused).toContain(where);
  expect(refused).not.toContain('torn');
  const repair = await cli('repair', '--config', config, '--json');
  expect(repair.code).toBe(1);
  expect(repair.json.error).toBe('the log has damage other than a torn tail');
  expect(tornFiles(t.dir)).toEqual([]);
}

describe('zeroed bytes at the end of the last segment', () => {
  test('after the latest checkpoint: a torn tail, named as such and moved aside whole by `audit repair`', async () => {
    const { t, config, segment, lines } = await crashedLog();
    const kept = Buffer.concat(lines.slice(0, 7));
    // entries 7 and 8 were never checkpointed: a page of zeroes, then the two lines of pages that did land
    const tail = Buffer.concat([zeroedPage(), lines[7]!, lines[8]!]);
    writeFileSync(segment, Buffer.concat([kept, tail]));
    const name = basename(segment);

    const verify = await cli('verify', t.dir, '--config', config, '--json');
    expect(verify.json.problems).toEqual([
      {
        kind: 'torn',
        position: { file: name, line: 8, offset: kept.length, index: 7 },
        message: `${tail.length} bytes from a line of zeroed bytes (NUL) on, after the latest checkpoint: a write a power cut interrupted`,
      },
    ]);
    const refused = await refusal(t);
    expect(refused).toContain(`has a torn tail (an interrupted write, never acknowledged): torn tail at entry 7`);
    expect(refused).toContain('zeroed bytes');

    const repair = await cli('repair', '--config', config, '--json');
    expect(repair.code).toBe(0);
    expect(repair.json.repaired).toEqual([
      { file: name, offset: kept.length, length: tail.length, line: 8, moved_to: `torn/${name}.${kept.length}.torn` },
    ]);
    expect(readFileSync(join(t.dir, 'torn', `${name}.${kept.length}.torn`)).equals(tail)).toBe(true);
    // the log goes on from entry 6: the repair is entry 7, under a checkpoint of its own
    expect(readFileSync(segment).subarray(0, kept.length).equals(kept)).toBe(true);
    expect(
      entries(t.dir)
        .map((e) => e.type)
        .slice(6),
    ).toEqual(['tokens_issued', 'audit_log_repaired']);
    const after = await cli('verify', t.dir, '--config', config, '--json');
    expect(after.json.problems).toEqual([]);
    expect(after.json.witness_problems).toEqual([]);
    expect(await refusal(t)).toBe('opened');
  });

  test('with torn_tail: repair the start moves it aside itself and records it', async () => {
    const { t, segment, lines } = await crashedLog();
    const kept = Buffer.concat(lines.slice(0, 7));
    // the zeroed pages end inside entry 7's line: its first bytes did not land, its end did
    const tail = Buffer.concat([zeroedPage(100), lines[7]!.subarray(100), lines[8]!]);
    writeFileSync(segment, Buffer.concat([kept, tail]));

    const log = await t.open({ tornTail: 'repair' });
    expect(log.repaired.map(({ offset, length, line }) => ({ offset, length, line }))).toEqual([
      { offset: kept.length, length: tail.length, line: 8 },
    ]);
    await log.close();
    const repaired = entries(t.dir).at(-1)!;
    expect(repaired).toMatchObject({ i: 7, type: 'audit_log_repaired', detail: { offset: kept.length, line: 8 } });
    expect(readFileSync(join(t.dir, repaired.detail!.moved_to as string)).equals(tail)).toBe(true);
    expect((await cli('verify', t.dir, '--config', configFile(t), '--json')).json.problems).toEqual([]);
  });

  test('inside entries a checkpoint covers: damage, named by position, not repairable', async () => {
    const { t, config, segment, lines } = await crashedLog();
    // entry 5 of 0..6, which checkpoint 0 covers, zeroed: a checkpoint is signed only over durable entries
    const before = Buffer.concat(lines.slice(0, 5));
    writeFileSync(segment, Buffer.concat([before, zeroedPage(), ...lines.slice(5)]));
    const verify = await cli('verify', t.dir, '--config', config, '--json');
    expect(verify.json.problems.map((p: { kind: string }) => p.kind)).not.toContain('torn');
    expect(verify.json.first_bad).toEqual({
      kind: 'entry',
      position: { file: basename(segment), line: 6, offset: before.length, index: 5 },
      message: 'not an audit entry line',
    });
    await refusedAsDamage(t, config, `entry 5 (${basename(segment)} line 6, byte ${before.length})`);
  });

  test('a line that is no entry and holds no zeroed bytes stays damage, after the latest checkpoint too', async () => {
    const { t, config, segment, lines } = await crashedLog();
    const kept = Buffer.concat(lines.slice(0, 7));
    writeFileSync(segment, Buffer.concat([kept, Buffer.from(`${' '.repeat(300)}\n`), lines[8]!]));
    await refusedAsDamage(
      t,
      config,
      `entry 7 (${basename(segment)} line 8, byte ${kept.length}): not an audit entry line`,
    );
  });
});

describe('zeroed bytes in an older segment', () => {
  useTamperedLog();

  test('are damage, even with the checkpoints past them cut off', async () => {
    const dir = copyDir(written.t.dir);
    const first = join(dir, written.segments[0]!);
    const buf = readFileSync(first);
    const starts = lineStarts(buf);
    const last = starts.at(-1)!;
    // the first segment's last line zeroed up to its end, and no checkpoint left over it: only its place in
    // an older segment (a later one began after it was durable) tells it from a torn tail
    const size = starts.length - 1;
    writeFileSync(first, Buffer.concat([buf.subarray(0, last), zeroedPage(buf.length - last - 1), Buffer.from('\n')]));
    const checkpoints = readFileSync(join(dir, CHECKPOINTS_FILE), 'utf8').split('\n').filter(Boolean);
    const under = checkpoints.filter((line) => (JSON.parse(line) as { size: number }).size <= size);
    expect(under.length).toBeGreaterThan(0);
    writeFileSync(join(dir, CHECKPOINTS_FILE), `${under.join('\n')}\n`);

    const verify = await cli('verify', dir, '--public-key', written.t.publicKey, '--json');
    expect(verify.json.problems.map((p: { kind: string }) => p.kind)).not.toContain('torn');
    expect(verify.json.first_bad).toEqual({
      kind: 'entry',
      position: { file: written.segments[0], line: starts.length, offset: last, index: size },
      message: 'not an audit entry line',
    });
  });
});

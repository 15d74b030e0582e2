// audit.retention_days: the writer retires the whole segments whose last entry is older than the period, up to
// a segment boundary with a signed frontier checkpoint, leaves a signed marker saying where the log now begins
// and records the retirement; the log still verifies, is queried and proved from there, and starts again.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, configFile } from './helpers.ts';
import { DAY_MS, configured, firstOf, hasMarker, markerOf, oldLog, openAndRetire } from './support/old-log.ts';
import { checkpointLines, openedLine, segmentsOf } from './support/segmented-log.ts';

test('segments older than the period are retired up to a frontier checkpoint; the marker, the event, verify, query, prove and a new start agree', async () => {
  const t = await oldLog();
  const before = segmentsOf(t.dir);
  const kept = before.filter((s) => !t.old.includes(s));
  const S = firstOf(kept[0]!);
  const log = await openAndRetire(configured(t));
  expect(log.status()).toMatchObject({ healthy: true });
  await log.close();

  // every old segment went, today's are all there; the marker names where the log begins, at a frontier checkpoint
  expect(segmentsOf(t.dir)).toEqual(kept);
  const marker = markerOf(t);
  expect(marker.before).toBe(S);
  const frontier = checkpointLines(t.dir).find(({ checkpoint }) => checkpoint.size === S && checkpoint.frontier);
  expect(frontier).toBeDefined();
  expect(Date.now() - Date.parse(marker.time)).toBeLessThan(DAY_MS);

  // the retirement is in the log it retired from
  const retired = await cli('query', t.dir, '--event', 'S122', '--json');
  expect(retired.json.count).toBe(1);
  expect(retired.json.entries[0].detail).toEqual({ segments: t.old, before: S, archived: false });
  expect(retired.json.entries[0].i).toBeGreaterThanOrEqual(S);

  const verify = await cli('verify', t.dir, '--config', configFile(t), '--json');
  expect(verify.json.problems).toEqual([]);
  expect(verify.json.retired_before).toBe(S);
  expect(verify.code).toBe(0);
  const text = await cli('verify', t.dir, '--config', configFile(t));
  expect(text.stdout).toContain(`retired: entries 0..${S - 1} (signed retired.json); the log begins at entry ${S}`);

  // query lists what is left: the logins of today, none of 40 days ago
  const released = await cli('query', t.dir, '--event', 'identity_released', '--json');
  expect(released.stderr).toBe('');
  expect(released.json.entries.map((e: { corr: string }) => e.corr)).toEqual([
    'corr-8',
    'corr-9',
    'corr-10',
    'corr-11',
  ]);

  // an entry kept is proved in the latest checkpoint; a retired one is refused, named
  const entries = verify.json.entries as number;
  const proof = await cli('prove', t.dir, '--index', String(S + 3), '--json');
  expect(proof.code).toBe(0);
  const proofFile = join(t.root, 'proof.json');
  writeFileSync(proofFile, proof.stdout);
  expect((await cli('verify-proof', proofFile, '--public-key', t.publicKey)).code).toBe(0);
  const last = await cli('prove', t.dir, '--index', String(entries - 2));
  expect(last.code).toBe(0);
  const gone = await cli('prove', t.dir, '--index', '3');
  expect(gone.code).toBe(1);
  expect(gone.stdout).toContain(`entry 3 was retired: the log begins at entry ${S} (retired.json)`);
  const consistent = await cli('consistency', t.dir, '--first', String(S));
  expect(consistent.code).toBe(0);
  const early = checkpointLines(t.dir)[1]!.checkpoint.size;
  const refused = await cli('consistency', t.dir, '--first', String(early));
  expect(refused.code).toBe(1);
  expect(refused.stdout).toMatch(/needs entries before \d+, which were retired/);

  // a new start reads the latest segment, the pass after it verifies the others from the marker's frontier
  t.logger.lines.length = 0;
  const again = await openAndRetire(configured(t));
  expect(openedLine(t).verified_at_start).toMatchObject({ segment: kept.at(-1) });
  expect(await again.background!.done).toBe(true);
  expect(again.status()).toMatchObject({ healthy: true });
  await again.close();
  expect(segmentsOf(t.dir)).toEqual(kept);
  expect((await cli('query', t.dir, '--event', 'S122', '--json')).json.count).toBe(1);
});

test('the latest segment and segments with a recent last entry are kept; without retention_days nothing goes', async () => {
  const t = await oldLog();
  const all = segmentsOf(t.dir);
  await (await openAndRetire(t)).close();
  expect(segmentsOf(t.dir)).toEqual(all);
  expect(hasMarker(t)).toBe(false);
  // a period longer than the log's age retires nothing either
  await (await openAndRetire(configured(t, { retention_days: 41 }))).close();
  expect(segmentsOf(t.dir)).toEqual(all);
  expect(hasMarker(t)).toBe(false);
});

test('with audit.archive_dir the retired segments are moved there, byte for byte, and the event says so', async () => {
  const t = await oldLog();
  const bytes = new Map(t.old.map((name) => [name, readFileSync(join(t.dir, name))]));
  const archive = join(t.root, 'archive');
  await (await openAndRetire(configured(t, { archive_dir: archive }))).close();
  for (const [name, content] of bytes) expect(readFileSync(join(archive, name)).equals(content)).toBe(true);
  expect(segmentsOf(archive)).toEqual(t.old);
  expect(segmentsOf(t.dir).some((s) => t.old.includes(s))).toBe(false);
  const retired = await cli('query', t.dir, '--event', 'audit_segments_retired', '--json');
  expect(retired.json.entries[0].detail).toMatchObject({ archived: true });
  expect((await cli('verify', t.dir, '--config', configFile(t))).code).toBe(0);
});

test('an archive every local user may write refuses the start, naming it, before anything is retired', async () => {
  const t = await oldLog();
  const all = segmentsOf(t.dir);
  const archive = join(t.root, 'open-archive');
  mkdirSync(archive, { mode: 0o700 });
  chmodSync(archive, 0o777);
  await expect(configured(t, { archive_dir: archive }).open()).rejects.toThrow(
    `audit log refused (audit.archive_dir ${archive}): ${archive} is writable by every local user (mode 0777): chmod o-w`,
  );
  expect(segmentsOf(t.dir)).toEqual(all);
  expect(hasMarker(t)).toBe(false);
});

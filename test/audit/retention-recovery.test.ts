// A retirement cut short between its durable marker and the removal of the segments it retired leaves a log
// that starts and verifies, and the next pass removes them; segments are never retired before the older
// segments' pass has verified them: one found altered fails the log closed and nothing is retired.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, configFile } from './helpers.ts';
import { configured, firstOf, hasMarker, lastLeaf, oldLog, openAndRetire, writeMarker } from './support/old-log.ts';
import { segmentsOf } from './support/segmented-log.ts';

test('a crash after the marker, before the segments went: start and verify pass, the next pass removes them', async () => {
  const t = await oldLog();
  const all = segmentsOf(t.dir);
  const kept = all.filter((s) => !t.old.includes(s));
  const S = firstOf(kept[0]!);
  // what the writer does first, the marker made durable; then the crash
  await writeMarker(t, S, lastLeaf(t, t.old.at(-1)!));

  const verify = await cli('verify', t.dir, '--config', configFile(t), '--json');
  expect(verify.json.problems).toEqual([]);
  expect(verify.json.retired_before).toBe(S);
  expect(verify.json.warnings).toContainEqual(
    `segments retired (before entry ${S}) still present, not read: ${t.old.join(', ')}`,
  );
  expect(verify.code).toBe(0);

  // a start without retention configured serves, its older segments' pass verifies from the marker, nothing goes
  const plain = await t.open();
  expect(await plain.background!.done).toBe(true);
  expect(plain.status()).toMatchObject({ healthy: true });
  await plain.close();
  expect(segmentsOf(t.dir)).toEqual(all);

  // the next retirement pass removes them and records it
  const log = await openAndRetire(configured(t));
  expect(log.status()).toMatchObject({ healthy: true });
  await log.close();
  expect(segmentsOf(t.dir)).toEqual(kept);
  const retired = await cli('query', t.dir, '--event', 'S122', '--json');
  expect(retired.json.entries.map((e: { detail: unknown }) => e.detail)).toEqual([
    { segments: t.old, before: S, archived: false },
  ]);
  expect((await cli('verify', t.dir, '--config', configFile(t))).code).toBe(0);
});

test('an old segment altered: the pass after the start fails the log closed, and nothing is retired', async () => {
  const t = await oldLog();
  const all = segmentsOf(t.dir);
  const path = join(t.dir, t.old[1]!);
  writeFileSync(path, readFileSync(path, 'utf8').replace('"type":"provider_chosen"', '"type":"provider_chosez"'));
  const log = await openAndRetire(configured(t));
  expect(await log.background!.done).toBe(false);
  expect(log.status()).toMatchObject({ healthy: false, error: expect.stringContaining(t.old[1]!) });
  // the tick of a log failed closed retires nothing either
  log.retention!.run();
  await log.retention!.settled();
  await log.close();
  expect(segmentsOf(t.dir)).toEqual(all);
  expect(hasMarker(t)).toBe(false);
});

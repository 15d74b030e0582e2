// audit.archive_dir shared by two logs (two instances configured alike): every log names its segments alike, so a
// retirement would rename its segment over the other log's archived one, and that copy would be lost. A segment
// is archived only under a name not taken: a name another file holds stops the retirement (logged, tried again,
// both files kept); one that holds this very segment (a retirement a crash cut short after the copy) completes.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configured, hasMarker, oldLog, openAndRetire } from './support/old-log.ts';
import { segmentsOf } from './support/segmented-log.ts';

test('a segment of the same name already in the archive, from another log: kept, and this one is not moved over it', async () => {
  const t = await oldLog();
  const archive = join(t.root, 'archive');
  mkdirSync(archive, { mode: 0o700 });
  const [first] = t.old;
  const others = Buffer.from('{"another":"log"}\n');
  writeFileSync(join(archive, first!), others, { mode: 0o600 });
  const ours = readFileSync(join(t.dir, first!));

  const log = await openAndRetire(configured(t, { archive_dir: archive }));
  await log.close();
  expect(readFileSync(join(archive, first!)).equals(others)).toBe(true);
  expect(readFileSync(join(t.dir, first!)).equals(ours)).toBe(true);
  const failed = t.logger.lines.find((l) => l.includes('audit segments could not be retired'));
  expect(failed).toContain(`${join(archive, first!)} exists`);
});

test('the segment already in the archive, byte for byte (a crash after the copy): the retirement completes', async () => {
  const t = await oldLog();
  const archive = join(t.root, 'archive');
  mkdirSync(archive, { mode: 0o700 });
  const [first] = t.old;
  copyFileSync(join(t.dir, first!), join(archive, first!));
  await (await openAndRetire(configured(t, { archive_dir: archive }))).close();
  expect(hasMarker(t)).toBe(true);
  expect(segmentsOf(archive)).toEqual(t.old);
  expect(segmentsOf(t.dir).some((s) => t.old.includes(s))).toBe(false);
});

// An audit directory that others may change under the writer: the start is refused, naming the path. A
// symbolic link in place of one of the log's files would send its durable appends elsewhere (a copy outside
// the directory, /dev/null) while verify, which reads through it, still finds every entry.
import { chmodSync, copyFileSync, readFileSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { closedLog, refusal } from './helpers.ts';

test('a segment replaced by a link to a copy outside the directory: refused, and nothing written there', async () => {
  const { t, segment } = await closedLog();
  const outside = join(t.root, 'elsewhere.jsonl');
  copyFileSync(segment, outside);
  unlinkSync(segment);
  symlinkSync(outside, segment);
  expect(await refusal(t)).toBe(
    `audit log refused (audit.dir ${t.dir}): ${segment} is a symbolic link; the log's files must be its own regular files`,
  );
  expect(readFileSync(outside)).toEqual(readFileSync(segment));
});

test.each([
  ['checkpoints.jsonl', '/dev/null'],
  ['writer.lock', '/nonexistent/writer.lock'],
])('%s replaced by a link (to %s): refused, naming it', async (name, target) => {
  const { t } = await closedLog();
  const path = join(t.dir, name);
  try {
    renameSync(path, `${path}.aside`);
  } catch {
    // writer.lock is gone after a clean close
  }
  symlinkSync(target, path);
  expect(await refusal(t)).toContain(`${path} is a symbolic link`);
});

test('the directory or a file in it writable by every local user: refused, naming it and its mode', async () => {
  const { t, segment } = await closedLog();
  chmodSync(t.dir, 0o777);
  expect(await refusal(t)).toBe(
    `audit log refused (audit.dir ${t.dir}): ${t.dir} is writable by every local user (mode 0777): chmod o-w`,
  );
  chmodSync(t.dir, 0o700);
  chmodSync(segment, 0o666);
  expect(await refusal(t)).toContain(`${segment} is writable by every local user (mode 0666): chmod o-w`);
  chmodSync(segment, 0o644);
  // the service's group may write (a volume mounted for it): not refused
  chmodSync(t.dir, 0o2770);
  expect(await refusal(t)).toBe('opened');
});

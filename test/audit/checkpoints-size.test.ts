// checkpoints.jsonl beyond what one read can take (2 GiB: a year of checkpoints every 5 s at about 350 bytes
// each, or a sparse file put there): the reading commands and the start name the file and its size instead of
// a bare "File size is greater than 2 GiB".
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { cli, loginEvents, testLog } from './helpers.ts';

test('a checkpoints file of 3 GiB (sparse) is named, with its size, by verify, query and the start', async () => {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const path = join(t.dir, 'checkpoints.jsonl');
  truncateSync(path, 3 * 2 ** 30);
  const named = `${path} holds ${3 * 2 ** 30} bytes`;
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey);
  expect(verify.stderr).toContain(named);
  expect(verify.code).toBe(2);
  expect((await cli('query', t.dir, '--public-key', t.publicKey)).stderr).toContain(named);
  await expect(t.open()).rejects.toThrow(named);
});

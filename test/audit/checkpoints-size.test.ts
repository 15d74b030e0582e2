// checkpoints.jsonl beyond what one read can take (2 GiB: a year of checkpoints every 5 s at about 350 bytes
// each; here a sparse file of 3 GiB put there): it is read line by line in bounded chunks, never whole, so its
// size stops nothing; the bytes after its last complete line are named as a torn tail, by offset and length.
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { cli, loginEvents, testLog } from './helpers.ts';

test('a checkpoints file of 3 GiB (sparse) is read through: verify, query and the start name its torn tail', async () => {
  const t = testLog();
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close();
  const path = join(t.dir, 'checkpoints.jsonl');
  const written = statSync(path).size;
  truncateSync(path, 3 * 2 ** 30);
  const torn = `checkpoints.jsonl line 2, byte ${written}): ${3 * 2 ** 30 - written} bytes of an incomplete checkpoint`;
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey);
  expect(verify.stdout).toContain(torn);
  expect(verify.code).toBe(1);
  const query = await cli('query', t.dir, '--public-key', t.publicKey, '--event', 'tokens_issued', '--json');
  expect(query.json).toMatchObject({ count: 1 });
  expect(query.stderr).toContain(torn);
  await expect(t.open()).rejects.toThrow(torn);
}, 60_000);

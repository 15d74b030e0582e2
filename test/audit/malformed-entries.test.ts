// Segment content the gateway never writes, put there by whoever can write the directory: the reading
// commands name the file and line and go on, they do not fail as a whole. An entry is added at the tail,
// where no checkpoint covers it, with a correct leaf hash (anyone can compute one; only the MAC needs a key).
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { leafHash } from '../../src/audit/merkle.ts';
import { cli, loginEvents, testLog } from './helpers.ts';

/** An entry line as the gateway frames it, around `body`. */
function entryLine(body: string): string {
  return `{"leaf":"${leafHash(Buffer.from(body)).toString('hex')}","entry":${body}}\n`;
}

test('an entry whose detail nests 100,000 levels deep is named by verify; query lists the other entries', async () => {
  const t = testLog({ checkpoint_every: 1_000_000 });
  const log = await t.open();
  for (const e of loginEvents(1)) await log.record(e);
  await log.close(); // a final checkpoint over the 7 entries
  const segment = readdirSync(t.dir).find((name) => name.startsWith('segment-'))!;
  const depth = 100_000;
  const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const time = new Date(Date.now() + 1).toISOString();
  appendFileSync(
    join(t.dir, segment),
    entryLine(`{"i":7,"t":"${time}","type":"logout","code":"A170","detail":{"a":${nested}},"mac":"${'0'.repeat(64)}"}`),
  );

  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.code).toBe(1);
  expect(verify.json.problems[0].position).toMatchObject({ file: segment, line: 8, index: 7 });
  expect(verify.json.problems[0].message).toMatch(/nested deeper than/);

  const query = await cli('query', t.dir, '--public-key', t.publicKey, '--json');
  expect(query.json.entries.map((e: { i: number }) => e.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  expect(query.stderr).toContain(`${segment} line 8`);
  const text = await cli('query', t.dir, '--public-key', t.publicKey);
  expect(text.stdout).toContain('7 matching entries');
});

test('the deepest detail the gateway keeps as it is (1,024 characters of brackets) verifies and is listed', async () => {
  const t = testLog();
  const log = await t.open();
  let deepest: unknown = [];
  while (JSON.stringify({ a: [deepest] }).length <= 1024) deepest = [deepest];
  await log.record({ type: 'logout', detail: { a: deepest } });
  await log.close();
  const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
  expect(verify.json.problems).toEqual([]);
  const query = await cli('query', t.dir, '--public-key', t.publicKey, '--json');
  expect(query.json.entries[0].detail).toEqual({ a: deepest });
});

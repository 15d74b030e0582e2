// `audit query --limit N` over a long log keeps the N entries it will show, not every match: a year of a
// gateway's log holds millions of entries of each kind, and holding them all ran the reader out of memory
// before it printed the few it was asked for. The query runs as a real process with a small heap.
import { spawnSync } from 'node:child_process';
import { MAIN, NODE, root } from '../ops/processes.ts';
import { testLog } from './helpers.ts';

test('a query of 3 entries among 200,000 matches runs in a 64 MB heap and shows the first 3', async () => {
  const t = testLog({ checkpoint_every: 100_000 });
  const log = await t.open();
  const total = 200_000;
  for (let done = 0; done < total; done += 4096)
    await Promise.all(
      Array.from({ length: Math.min(4096, total - done) }, (_, k) =>
        log.record({
          type: 'provider_chosen',
          correlationId: `login-${done + k}`,
          clientId: 'rp',
          providerId: 'mock-eid',
          detail: { note: 'x'.repeat(200) },
        }),
      ),
    );
  await log.close();
  const run = spawnSync(
    NODE,
    ['--max-old-space-size=64', MAIN, 'audit', 'query', t.dir, '--event', 'provider_chosen', '--limit', '3', '--json'],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  expect(run.stderr).not.toMatch(/heap out of memory/i);
  expect(run.status).toBe(0);
  const answer = JSON.parse(run.stdout) as { count: number; shown: number; entries: { corr: string }[] };
  expect(answer).toMatchObject({ count: total, shown: 3 });
  expect(answer.entries.map((e) => e.corr)).toEqual(['login-0', 'login-1', 'login-2']);
}, 120_000);

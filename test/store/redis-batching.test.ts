// The store's commands of one event-loop turn leave in one socket write (src/store/redis-batching.ts), and
// no ioredis Pipeline is built for them (whose per-object hidden classes kept replies alive until a full GC).
// A private redis-server, so that its read count is this test's alone.
import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { RedisFleet } from './redis-fleet.ts';
import { command, type RedisProcess } from './redis-processes.ts';

const fleet = new RedisFleet();
let redis: RedisProcess;
let store: RedisStore;

beforeAll(async () => {
  redis = await fleet.server();
  store = new RedisStore({ url: `redis://127.0.0.1:${redis.port}`, prefix: 'batching:' });
  // connected, and the script loaded (its first EVALSHA is answered NOSCRIPT and sent again as EVAL)
  await store.increment('warm', 60);
});
afterAll(async () => {
  await store.close();
  await fleet.stop();
});

/** Reads Redis has taken from all its connections; each INFO, on a connection of its own, adds its own. */
const reads = async () => Number(/total_reads_processed:(\d+)/.exec((await command(redis.port, 'INFO', 'stats'))!)![1]);

test('twenty commands issued in one turn reach Redis in one read, in order, each with its own answer', async () => {
  const pipelines = jest.spyOn(store.client, 'pipeline');
  const before = await reads();
  // the kinds a login mixes in one turn: plain commands, a script (EVALSHA) and a take
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.set(`k${i}`, `v${i}`, 60)));
  const turn = [
    ...Array.from({ length: 10 }, (_, i) => store.get(`k${i}`)),
    ...Array.from({ length: 5 }, () => store.increment('counter', 60)),
    ...Array.from({ length: 5 }, (_, i) => store.take(`k${i}`)),
  ];
  const answers = await Promise.all(turn);
  const after = await reads();
  expect(answers.slice(0, 10)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  expect(answers.slice(10, 15).map((a) => (a as { count: number }).count)).toEqual([1, 2, 3, 4, 5]);
  expect(answers.slice(15)).toEqual(Array.from({ length: 5 }, (_, i) => `v${i}`));
  // the first INFO's connection closing, the sets' turn, the twenty's turn and the second INFO: four reads
  // (unbatched, nearly one per command: 24)
  expect(after - before).toBeLessThanOrEqual(4);
  expect(pipelines).not.toHaveBeenCalled();
  pipelines.mockRestore();
});

test('a turn with one command is written at its end too, and the socket is left uncorked', async () => {
  await store.set('alone', '1', 60);
  // a later turn, on its own: answered only if the cork of the turn that issued it was released
  await new Promise((resolve) => setImmediate(resolve));
  expect(await store.get('alone')).toBe('1');
  expect((store.client as Redis).stream.writableCorked).toBe(0);
});

test('a connection dropped in the turn that corked it fails that turn and leaves the next socket uncorked', async () => {
  await store.set('kept', 'v', 60);
  for (const drop of ['disconnect', 'destroy'] as const) {
    const client = store.client as Redis;
    const ready = new Promise((resolve) => client.once('ready', resolve));
    const turn = [store.get('kept'), store.set('during', drop, 60)];
    // what resetHungConnection does on a command timeout, and a socket that dies under the commands
    if (drop === 'disconnect') client.disconnect(true);
    else client.stream.destroy();
    const settled = await Promise.allSettled(turn);
    // failed as an outage (the retry page), never answered with another command's reply and never hanging
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(StoreUnavailableError);
    if (settled[0]!.status === 'fulfilled') expect(settled[0]!.value).toBe('v');
    await ready;
    expect(await store.get('kept')).toBe('v');
    expect(client.stream.writableCorked).toBe(0);
  }
});

// A store on Sentinel against real redis-server and redis-sentinel processes the test starts: a primary that
// freezes (SIGSTOP: its connections stay open and nothing answers on them) is left once a command times out,
// and the store goes on with the replica Sentinel promotes while the old primary is still frozen. ioredis
// alone reconnects only when a connection closes.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { RedisFleet, type SentinelSet } from './redis-fleet.ts';
import { until } from './redis-processes.ts';

const fleet = new RedisFleet();
let set: SentinelSet;

beforeAll(async () => {
  set = await fleet.sentinelled(1);
}, 60_000);
afterAll(async () => {
  await fleet.stop();
});

test('a frozen primary is left after a command times out: the store answers from the promoted replica', async () => {
  const store = new RedisStore({
    url: set.url,
    prefix: `vpmtest:${randomBytes(6).toString('hex')}:`,
    command_timeout_ms: 500,
  });
  // acknowledged by the replica (wait_replicas is 1 on Sentinel)
  await store.set('x', '1', 60);
  set.primary.child!.kill('SIGSTOP');
  await until(async () => (await store.get('x').catch(() => undefined)) === '1', 'the store answers again');
  expect(await set.primaryPort()).not.toBe(set.primary.port);
  await store.close();
}, 60_000);

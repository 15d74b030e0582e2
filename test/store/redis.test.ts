// The same suite against a real Redis (the test run's own server when none answered on 6379).
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { type StoreHarness, storeConformance } from './conformance.ts';
import { RedisFleet } from './redis-fleet.ts';
import { command, type RedisProcess } from './redis-processes.ts';
import { redisHarness } from './redis-harness.ts';

const fleet = new RedisFleet();
let small: Promise<RedisProcess> | undefined;
afterAll(() => fleet.stop());

/** A private server under noeviction, given 256 KB more than it uses now: its maxmemory makes it full. */
async function fullHarness(): Promise<StoreHarness> {
  small ??= fleet.server(['--maxmemory-policy', 'noeviction']);
  const { port } = await small;
  await command(port, 'CONFIG', 'SET', 'maxmemory', '0');
  await command(port, 'FLUSHALL');
  const h = redisHarness({ url: `redis://127.0.0.1:${port}` });
  await h.store.get('connected');
  const used = Number(/used_memory:(\d+)/.exec((await command(port, 'INFO', 'memory')) ?? '')?.[1]);
  expect(await command(port, 'CONFIG', 'SET', 'maxmemory', String(used + 256 * 1024))).toBe('+OK\r\n');
  return h;
}

storeConformance('redis', async () => redisHarness({ url: process.env.VPM_TEST_REDIS_URL! }), { full: fullHarness });

// a store a failed assertion left open would hold its connection, and the test run, open
const opened: RedisStore[] = [];
const openStore = (prefix: string) => {
  const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  opened.push(store);
  return store;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close()));
});

test('keys carry the configured prefix', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = openStore(prefix);
  await store.set('x', '1', 60);
  expect(await store.client.get(`${prefix}x`)).toBe('1');
  expect(await store.client.ttl(`${prefix}x`)).toBeGreaterThan(0);
  await store.delete('x');
});

test('a client ioredis gave up on while the store is open connects again', async () => {
  const store = openStore(`vpmtest:${randomBytes(6).toString('hex')}:`);
  await store.set('x', '1', 60);
  // what ioredis does when a connect itself fails (src/store/redis-connection.ts reconnectWhenEnded): the client
  // ends, and every command fails with "Connection is closed."
  const ended = new Promise((resolve) => store.client.once('end', resolve));
  const ready = new Promise((resolve) => store.client.once('ready', resolve));
  store.client.disconnect();
  await ended;
  await expect(store.get('x')).rejects.toThrow(StoreUnavailableError);
  await ready;
  expect(await store.get('x')).toBe('1');
  await store.delete('x');
});

// The same suite against a real Redis (the test run's own server when none answered on 6379).
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { storeConformance } from './conformance.ts';
import { redisHarness } from './redis-harness.ts';

storeConformance('redis', async () => redisHarness({ url: process.env.VPM_TEST_REDIS_URL! }));

test('keys carry the configured prefix', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  await store.set('x', '1', 60);
  expect(await store.client.get(`${prefix}x`)).toBe('1');
  expect(await store.client.ttl(`${prefix}x`)).toBeGreaterThan(0);
  await store.delete('x');
  await store.close();
});

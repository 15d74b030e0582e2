// The same suite against a real Redis (the test run's own server when none answered on 6379).
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { storeConformance } from './conformance.ts';

storeConformance('redis', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  const keys = () => store.client.keys(`${prefix}*`);
  return {
    store,
    // Redis expires keys on its own clock; TTLs in the suite are one or two seconds
    advance: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100)),
    keys,
    teardown: async () => {
      const left = await keys();
      if (left.length) await store.client.del(...left);
      await store.close();
    },
  };
});

test('keys carry the configured prefix', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  await store.set('x', '1', 60);
  expect(await store.client.get(`${prefix}x`)).toBe('1');
  expect(await store.client.ttl(`${prefix}x`)).toBeGreaterThan(0);
  await store.delete('x');
  await store.close();
});

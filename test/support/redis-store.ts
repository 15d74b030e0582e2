// The tests' Redis (VPM_TEST_REDIS_URL, set by ./global-setup.ts) under a key prefix of a test file's own,
// so files running at once never see each other's keys, and nothing is left behind.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';

/** A key prefix no other test file uses. */
export const testPrefix = (): string => `vpmtest:${randomBytes(6).toString('hex')}:`;

/** A RedisStore under `prefix`; at `cleanup` (a useGateway clean-up, say) its keys are deleted and it is closed. */
export function testRedisStore(prefix: string, cleanup: (close: () => unknown) => void): RedisStore {
  const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  cleanup(async () => {
    const keys = await store.client.keys(`${prefix}*`);
    if (keys.length) await store.client.del(...keys);
    await store.close();
  });
  return store;
}

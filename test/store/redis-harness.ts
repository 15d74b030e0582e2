// The conformance suite's harness for a Redis store under a fresh random prefix: TTLs are Redis's own, so
// time passes for real, and every key left under the prefix is listed and removed afterwards.
import { randomBytes } from 'node:crypto';
import { RedisStore, type RedisStoreOptions } from '../../src/store/redis.ts';
import type { StoreHarness } from './conformance.ts';

/** `prefix` starts the random one (ACL key patterns may confine the user to it). */
export function redisHarness(options: Omit<RedisStoreOptions, 'prefix'>, prefix = 'vpmtest:'): StoreHarness {
  const full = `${prefix}${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ ...options, prefix: full });
  const keys = () => store.client.keys(`${full}*`);
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
}

// The store's Lua scripts. Each touches one key only, so it stays in one hash slot on Cluster without hash
// tags; ioredis sends each by EVALSHA, and by EVAL where the server answers that it has not loaded it.
import type { Cluster, Redis } from 'ioredis';

const COMPARE_AND_SET = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;

const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** takeAndMark: the value, left marked (ARGV[1], marked as src/store/store.ts says) unless a mark already. */
const TAKE_AND_MARK = `local value = redis.call('GET', KEYS[1])
if value and string.byte(value, 1) ~= 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
end
return value`;

/** A counter's INCR, its fixed window (EXPIRE NX) and the seconds left, as one command: a MULTI of the same
 * is five commands to encode, send and parse, on every rate-limited request. */
const INCREMENT = `local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('TTL', KEYS[1])}`;

/** The client with the scripts defined on it (ioredis adds each as a method). */
export type WithScripts = {
  compareAndSet(key: string, expected: string, value: string, ttl: number): Promise<number>;
  compareAndDelete(key: string, expected: string): Promise<number>;
  increment(key: string, ttl: number): Promise<[number, number]>;
  takeAndMark(key: string, marked: string): Promise<string | null>;
};

export function defineScripts(client: Redis | Cluster): void {
  client.defineCommand('compareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  client.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
  client.defineCommand('increment', { numberOfKeys: 1, lua: INCREMENT });
  client.defineCommand('takeAndMark', { numberOfKeys: 1, lua: TAKE_AND_MARK });
}

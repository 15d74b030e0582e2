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

/** A counter's INCR, its fixed window (EXPIRE NX) and the seconds left, as one command: a MULTI of the same
 * is five commands to encode, send and parse, on every rate-limited request. */
const INCREMENT = `local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {count, redis.call('TTL', KEYS[1])}`;

/** SADD with a TTL that only grows: NX gives a new set its TTL, GT extends an existing one. */
const ADD_TO_SET = `redis.call('SADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
redis.call('EXPIRE', KEYS[1], ARGV[2], 'GT')
return 1`;

const TAKE_SET = `local members = redis.call('SMEMBERS', KEYS[1])
redis.call('DEL', KEYS[1])
return members`;

/** The client with the scripts defined on it (ioredis adds each as a method). */
export type WithScripts = {
  compareAndSet(key: string, expected: string, value: string, ttl: number): Promise<number>;
  compareAndDelete(key: string, expected: string): Promise<number>;
  increment(key: string, ttl: number): Promise<[number, number]>;
  addToSet(key: string, member: string, ttl: number): Promise<number>;
  takeSet(key: string): Promise<string[]>;
};

export function defineScripts(client: Redis | Cluster): void {
  client.defineCommand('compareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  client.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
  client.defineCommand('increment', { numberOfKeys: 1, lua: INCREMENT });
  client.defineCommand('addToSet', { numberOfKeys: 1, lua: ADD_TO_SET });
  client.defineCommand('takeSet', { numberOfKeys: 1, lua: TAKE_SET });
}

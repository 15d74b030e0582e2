// JSON values kept in the Store under one key prefix, each with the same lifetime: the shape every piece
// of login state takes (the login behind a state, the result awaiting hand-back, the identity of a grant).
import type { Store } from '../store/store.ts';

export interface JsonRecords<T> {
  set(key: string, value: T): Promise<void>;
  /** Stores the value only when the key is free; true when this call stored it. */
  add(key: string, value: T): Promise<boolean>;
  get(key: string): Promise<T | undefined>;
  /** Single use: read and delete in one atomic step. */
  take(key: string): Promise<T | undefined>;
}

export function jsonRecords<T>(store: Store, prefix: string, ttlSeconds: number): JsonRecords<T> {
  const parsed = (raw: string | undefined) => (raw === undefined ? undefined : (JSON.parse(raw) as T));
  return {
    set: (key, value) => store.set(prefix + key, JSON.stringify(value), ttlSeconds),
    add: (key, value) => store.setIfAbsent(prefix + key, JSON.stringify(value), ttlSeconds),
    get: async (key) => parsed(await store.get(prefix + key)),
    take: async (key) => parsed(await store.take(prefix + key)),
  };
}

// JSON values kept in the Store under one key prefix, each with the same lifetime: the shape every piece
// of login state takes (the login behind a state, the result awaiting hand-back, the identity of a grant).
import type { Store } from '../store/store.ts';

export interface JsonRecords<T> {
  set(key: string, value: T): Promise<void>;
  /** Stores the value only when the key is free; true when this call stored it. */
  add(key: string, value: T): Promise<boolean>;
  get(key: string): Promise<T | undefined>;
  /** Stores the value and returns the one it replaced, in one atomic step. */
  swap(key: string, value: T): Promise<T | undefined>;
  /** Single use: read and delete in one atomic step. */
  take(key: string): Promise<T | undefined>;
  /** Single use that leaves `mark` for a later taker to find (Store.takeAndMark). */
  takeAndMark(
    key: string,
    mark: string,
  ): Promise<{ value: T; mark?: undefined } | { mark: string; value?: undefined } | undefined>;
  delete(key: string): Promise<void>;
}

export function jsonRecords<T>(store: Store, prefix: string, ttlSeconds: number): JsonRecords<T> {
  const parsed = (raw: string | undefined) => (raw === undefined ? undefined : (JSON.parse(raw) as T));
  return {
    set: (key, value) => store.set(prefix + key, JSON.stringify(value), ttlSeconds),
    add: (key, value) => store.setIfAbsent(prefix + key, JSON.stringify(value), ttlSeconds),
    get: async (key) => parsed(await store.get(prefix + key)),
    swap: async (key, value) => parsed(await store.swap(prefix + key, JSON.stringify(value), ttlSeconds)),
    take: async (key) => parsed(await store.take(prefix + key)),
    takeAndMark: async (key, mark) => {
      const taken = await store.takeAndMark(prefix + key, mark);
      return taken?.value !== undefined ? { value: JSON.parse(taken.value) as T } : taken;
    },
    delete: (key) => store.delete(prefix + key),
  };
}

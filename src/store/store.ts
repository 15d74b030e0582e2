// One storage interface for everything short-lived: node-oidc-provider's models, the broker's per-login
// state and replay caches. Two backends: memory (embedded default) and Redis. Every backend must pass
// test/store/conformance.ts.

export interface Store {
  /** Value or undefined when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Set with a TTL (seconds, > 0) in one atomic step. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Set with a TTL and return the value it replaced (undefined when absent), in one atomic step: of two
   * writers at once, the later one gets the earlier one's value. */
  swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined>;
  /** Replace the value of an existing key and keep its TTL; false when the key is absent. */
  replace(key: string, value: string): Promise<boolean>;
  /** Set only when absent (replay caches, nonces); true when this call created it. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Replace the value with a new TTL only when it is `expected` now, in one atomic step; true when replaced.
   * A lease: whoever still holds it may turn it into the final value, someone whose lease ran out may not. */
  compareAndSet(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Delete the key only when its value is `expected` now, in one atomic step; true when deleted. Withdraws a
   * value of one's own without touching what someone else wrote since. */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** Read and delete in one atomic step: single-use state. */
  take(key: string): Promise<string | undefined>;
  /** Single use that tells who came first: read the value and leave `mark` in its place (its TTL kept), in one
   * atomic step. `{ value }` when this call took it; `{ mark }`, the first taker's, when it was taken so
   * before (a mark stays until deleted or expired); undefined when absent. */
  takeAndMark(key: string, mark: string): Promise<Taken | undefined>;
  delete(...keys: string[]): Promise<void>;
  /** Add one to a counter in one atomic step; a new counter lives ttlSeconds (the window is fixed, later
   * increments never extend it). Returns the new count and the seconds until the counter expires. */
  increment(key: string, ttlSeconds: number): Promise<{ count: number; ttl: number }>;
  /** Remaining TTL in seconds, undefined when absent. */
  ttl(key: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** What takeAndMark found: the value it took, or the mark an earlier taker left. */
export type Taken = { value: string; mark?: undefined } | { mark: string; value?: undefined };

/** How a backend keeps a mark: behind a NUL, which no value the gateway writes (JSON, digests, counters)
 * begins with. */
export const MARKED = '\0';

/** takeAndMark's answer for what the key held before (`previous`, as stored). */
export function takenFrom(previous: string | undefined): Taken | undefined {
  if (previous === undefined) return undefined;
  return previous.startsWith(MARKED) ? { mark: previous.slice(MARKED.length) } : { value: previous };
}

export class StoreError extends Error {
  override name = 'StoreError';
}

export function assertTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0)
    throw new StoreError(`ttl must be a positive whole number of seconds, got ${ttlSeconds}`);
}

/** The store cannot answer now (disconnected, failing over, a write not acknowledged by its replicas): the
 * request may succeed when tried again. Every backend throws this, and only this, for an outage. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
}

/** Whether `err`, or an error it was caused by, is a store outage. */
export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth += 1)
    if (e instanceof StoreUnavailableError) return true;
  return false;
}

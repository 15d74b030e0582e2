// Reads an engine request is about to make, started as soon as their keys are known, so that they share a
// store round trip with a read or write the request makes anyway. node-oidc-provider reads a token
// request's code, then the session it is bound to, then its grant, and the claims need the grant's
// account: three sequential round trips that the code alone already names. Likewise the resume reads the
// interaction, destroys it, then reads the grant its result names.
// A read started ahead is used once, by the first read of its key in the same request; a write to the key
// in that request drops it, so a request never reads back something older than its own write. Outside an
// engine request (no Provider.ctx) nothing is read ahead and every read goes to the store.
import Provider from 'oidc-provider';
import type { Store } from '../store/store.ts';

const READS = Symbol('reads started ahead');
type Reads = Map<string, Promise<string | undefined>>;

function readsOfRequest(create: boolean): Reads | undefined {
  const state = (Provider.ctx as { state?: Record<symbol, Reads | undefined> } | undefined)?.state;
  if (!state) return undefined;
  if (create) state[READS] ??= new Map();
  return state[READS];
}

export interface ReadsAhead {
  /** the store whose reads take what was read ahead, and whose writes drop it */
  store: Store;
  /** start reading `keys` now, in the engine request under way (none: nothing happens) */
  readAhead(keys: readonly string[]): void;
}

export function readsAhead(inner: Store): ReadsAhead {
  const taken = (key: string): Promise<string | undefined> | undefined => {
    const reads = readsOfRequest(false);
    const read = reads?.get(key);
    if (read) reads!.delete(key);
    return read;
  };
  /** a write drops what was read ahead of its keys */
  const writing = <T>(keys: string[], write: () => Promise<T>): Promise<T> => {
    const reads = readsOfRequest(false);
    for (const key of keys) reads?.delete(key);
    return write();
  };
  const store: Store = {
    get: (key) => taken(key) ?? inner.get(key),
    set: (key, value, ttl) => writing([key], () => inner.set(key, value, ttl)),
    swap: (key, value, ttl) => writing([key], () => inner.swap(key, value, ttl)),
    replace: (key, value) => writing([key], () => inner.replace(key, value)),
    setIfAbsent: (key, value, ttl) => writing([key], () => inner.setIfAbsent(key, value, ttl)),
    compareAndSet: (key, expected, value, ttl) => writing([key], () => inner.compareAndSet(key, expected, value, ttl)),
    compareAndDelete: (key, expected) => writing([key], () => inner.compareAndDelete(key, expected)),
    take: (key) => writing([key], () => inner.take(key)),
    takeAndMark: (key, mark) => writing([key], () => inner.takeAndMark(key, mark)),
    delete: (...keys) => writing(keys, () => inner.delete(...keys)),
    increment: (key, ttl) => writing([key], () => inner.increment(key, ttl)),
    ttl: (key) => inner.ttl(key),
    close: () => inner.close(),
  };
  return {
    store,
    readAhead(keys) {
      if (!keys.length) return;
      const reads = readsOfRequest(true);
      if (!reads) return;
      for (const key of keys) {
        if (reads.has(key)) continue;
        const read = inner.get(key);
        // an outage fails the read that takes it (as a direct read would); untaken, it is nobody's error
        read.catch(() => {});
        reads.set(key, read);
      }
    },
  };
}

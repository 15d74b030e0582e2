// Reads started ahead in an engine request (src/oidc/reads-ahead.ts), on the real memory store, inside the
// engine's own request context (its AsyncLocalStorage, as node-oidc-provider runs each request): taken once
// by the first read of the key, dropped by a write of the request, and nothing at all outside a request.
import { expect, test } from '@jest/globals';
// the engine's request context: what Provider.ctx answers inside a request (test/support/oidc-provider-als.d.ts)
import als from 'oidc-provider/lib/helpers/als.js';
import { readsAhead } from '../../src/oidc/reads-ahead.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';

const inRequest = <T>(fn: () => Promise<T>): Promise<T> => als.run({ state: {} }, fn);

test('inside a request, the first read of a key takes what was read ahead; the next reads the store', async () => {
  const inner = new MemoryStore();
  const { store, readAhead } = readsAhead(inner);
  await inner.set('k', 'before', 60);
  await inRequest(async () => {
    readAhead(['k']);
    await new Promise((r) => setImmediate(r));
    await inner.set('k', 'after', 60); // another request's write, after the read ahead
    expect(await store.get('k')).toBe('before');
    expect(await store.get('k')).toBe('after');
  });
});

test("a write of the request drops the key's read ahead: it reads back its own write", async () => {
  const inner = new MemoryStore();
  const { store, readAhead } = readsAhead(inner);
  await inner.set('k', 'before', 60);
  await inner.set('s', 'x', 60);
  await inRequest(async () => {
    readAhead(['k', 'n', 's']);
    await store.set('k', 'mine', 60);
    expect(await store.get('k')).toBe('mine');
    await store.delete('n', 's');
    expect(await store.get('s')).toBeUndefined();
  });
});

test('outside a request nothing is read ahead', async () => {
  const inner = new MemoryStore();
  const { store, readAhead } = readsAhead(inner);
  await inner.set('k', 'before', 60);
  readAhead(['k']);
  await inner.set('k', 'after', 60);
  expect(await store.get('k')).toBe('after');
});

test('a read ahead that meets an outage fails the read that takes it, and nothing else', async () => {
  const inner = new MemoryStore();
  const outage = new StoreUnavailableError('redis (single) unavailable: Connection is closed.');
  inner.get = () => Promise.reject(outage);
  const { store, readAhead } = readsAhead(inner);
  await inRequest(async () => {
    readAhead(['k', 'untaken']);
    await expect(store.get('k')).rejects.toBe(outage);
  });
  await new Promise((r) => setTimeout(r, 10)); // an unhandled rejection of 'untaken' would fail the test run
});

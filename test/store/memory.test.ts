import { MemoryStore } from '../../src/store/memory.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { type StoreHarness, storeConformance } from './conformance.ts';

/** A memory store on a clock the test moves; `maxBytes`: its cap. */
function harness(maxBytes?: number): StoreHarness & { store: MemoryStore } {
  let offset = 0;
  const store = new MemoryStore(() => Date.now() + offset, { maxBytes });
  return {
    store,
    advance: async (seconds) => {
      offset += seconds * 1000;
    },
    keys: async () => (store.size === 0 ? [] : ['(live entries)']),
    teardown: () => store.close(),
  };
}

storeConformance('memory', async () => harness(), { full: async () => harness(64 * 1024) });

test('once full, small writes are refused too until the live entries fall below 90% of the cap (readiness must see it)', async () => {
  const { store, advance, teardown } = harness(64 * 1024);
  try {
    // five entries that live on, then short-lived ones until the cap refuses one
    const fill = (i: number) =>
      store.set(`fill-${i}`, 'v'.repeat(2000), i < 5 ? 60 : 2).then(
        () => true,
        () => false,
      );
    let written = 0;
    while (written < 10_000 && (await fill(written))) written += 1;
    expect(written).toBeLessThan(10_000);
    await expect(store.set('readyz:ping', '1', 10)).rejects.toThrow(StoreUnavailableError);
    await expect(store.increment('hits', 60)).rejects.toThrow(StoreUnavailableError);
    // freeing a little is not enough
    await store.delete('fill-0', 'fill-1');
    await expect(store.setIfAbsent('nonce', 'x', 60)).rejects.toThrow(/memory store full: .* store\.max_bytes 65536/);
    // the entries that expired no longer count, the three long-lived ones left still do
    await advance(3);
    expect(await store.setIfAbsent('nonce', 'x', 60)).toBe(true);
    expect(store.size).toBe(4);
    expect(store.bytes).toBeLessThan(64 * 1024 * 0.9);
  } finally {
    await teardown();
  }
});

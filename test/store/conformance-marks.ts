// The store conformance suite's part for takeAndMark (./conformance.ts runs it for every backend): single use
// that tells a later taker who came first, as a provider's answer posted twice at once needs
// (src/login/login-state.ts).
import type { StoreHarness } from './conformance.ts';

export function takeAndMarkConformance(harness: () => StoreHarness): void {
  test('takeAndMark: one taker gets the value, every later one the first taker’s mark, the TTL kept', async () => {
    const { store: s } = harness();
    await s.set('once', 'v', 60);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.takeAndMark('once', `m${i}`)));
    const first = results.findIndex((r) => r?.value !== undefined);
    expect(results[first]).toEqual({ value: 'v' });
    expect(results.filter((_, i) => i !== first)).toEqual(Array(9).fill({ mark: `m${first}` }));
    expect(await s.ttl('once')).toBeGreaterThan(0);
    expect(await s.ttl('once')).toBeLessThanOrEqual(60);
    // an empty mark is a mark too; an absent key gives nothing, and a deleted mark is gone
    await s.set('twice', '', 60);
    expect(await s.takeAndMark('twice', '')).toEqual({ value: '' });
    expect(await s.takeAndMark('twice', 'other')).toEqual({ mark: '' });
    await s.delete('twice');
    expect(await s.takeAndMark('twice', 'other')).toBeUndefined();
    expect(await s.takeAndMark('missing', 'm')).toBeUndefined();
  });

  test('takeAndMark: the mark expires with the value it took', async () => {
    const { store: s, advance } = harness();
    await s.set('short', 'v', 1);
    expect(await s.takeAndMark('short', 'm')).toEqual({ value: 'v' });
    await advance(2);
    expect(await s.takeAndMark('short', 'm')).toBeUndefined();
    expect(await s.ttl('short')).toBeUndefined();
  });
}

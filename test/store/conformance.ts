// ONE conformance suite that every Store backend runs (as dex does for its storages).
import { isStoreUnavailable, type Store } from '../../src/store/store.ts';
import { storeAdapterFactory } from '../../src/oidc/adapter.ts';
import { takeAndMarkConformance } from './conformance-marks.ts';

export interface StoreHarness {
  store: Store;
  /** make `seconds` pass for the backend (a fake clock, or real waiting where TTLs are server-side) */
  advance(seconds: number): Promise<void>;
  /** every raw key the backend holds for this harness (to prove nothing leaks) */
  keys(): Promise<string[]>;
  teardown(): Promise<void>;
}

export interface ConformanceOptions {
  /** a harness whose store holds little (tens of KB, nothing in it yet), where a store can be full: the
   * memory store's cap (store.max_bytes), a Redis's maxmemory under noeviction */
  full?: () => Promise<StoreHarness>;
}

export function storeConformance(
  name: string,
  setup: () => Promise<StoreHarness>,
  options: ConformanceOptions = {},
): void {
  describe(`store conformance: ${name}`, () => {
    let h: StoreHarness;
    let s: Store;
    beforeEach(async () => {
      h = await setup();
      s = h.store;
    });
    afterEach(async () => {
      await h.teardown();
    });

    takeAndMarkConformance(() => h);

    test('set/get round trip and absent keys', async () => {
      await s.set('a', 'value-1', 60);
      expect(await s.get('a')).toBe('value-1');
      expect(await s.get('missing')).toBeUndefined();
    });

    test('values expire with their TTL', async () => {
      await s.set('short', 'x', 1);
      expect(await s.ttl('short')).toBeGreaterThan(0);
      await h.advance(2);
      expect(await s.get('short')).toBeUndefined();
      expect(await s.ttl('short')).toBeUndefined();
    });

    test('a TTL must be a positive whole number', async () => {
      await expect(s.set('bad', 'x', 0)).rejects.toThrow(/ttl/);
      await expect(s.setIfAbsent('bad', 'x', 1.5)).rejects.toThrow(/ttl/);
    });

    test('take is single use, also under concurrency', async () => {
      await s.set('once', 'v', 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => s.take('once')));
      expect(results.filter((r) => r === 'v')).toHaveLength(1);
      expect(await s.get('once')).toBeUndefined();
    });

    test('setIfAbsent admits exactly one writer (replay caches)', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.setIfAbsent('nonce', String(i), 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.setIfAbsent('nonce', 'late', 60)).toBe(false);
    });

    test('swap sets with a TTL and returns what it replaced; concurrent swaps form one chain', async () => {
      expect(await s.swap('w', 'first', 60)).toBeUndefined();
      expect(await s.swap('w', 'second', 2)).toBe('first');
      expect(await s.get('w')).toBe('second');
      const seen = await Promise.all(Array.from({ length: 10 }, (_, i) => s.swap('w', String(i), 60)));
      // each value is replaced by exactly one later swap, and the last one is still there
      const last = (await s.get('w'))!;
      expect(new Set(seen).size).toBe(10);
      expect([...seen, last].sort()).toEqual(['second', ...Array.from({ length: 10 }, (_, i) => String(i))].sort());
      await h.advance(3);
      expect(await s.ttl('w')).toBeGreaterThan(0);
    });

    test('replace keeps the TTL and refuses absent keys', async () => {
      await s.set('r', 'one', 2);
      expect(await s.replace('r', 'two')).toBe(true);
      expect(await s.get('r')).toBe('two');
      await h.advance(3);
      expect(await s.get('r')).toBeUndefined();
      expect(await s.replace('r', 'three')).toBe(false);
      expect(await s.get('r')).toBeUndefined();
    });

    test('compareAndSet: only the holder of the expected value replaces it, with the new TTL, once', async () => {
      expect(await s.compareAndSet('lease', 'mine', 'done', 60)).toBe(false);
      expect(await s.get('lease')).toBeUndefined();
      await s.set('lease', 'mine', 1);
      expect(await s.compareAndSet('lease', 'theirs', 'done', 60)).toBe(false);
      const results = await Promise.all(Array.from({ length: 10 }, () => s.compareAndSet('lease', 'mine', 'done', 60)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.get('lease')).toBe('done');
      // the lease's one second became the final value's minute
      await h.advance(2);
      expect(await s.get('lease')).toBe('done');
      expect(await s.ttl('lease')).toBeGreaterThan(50);
      await expect(s.compareAndSet('lease', 'done', 'x', 0)).rejects.toThrow(/ttl/);
    });

    test('compareAndDelete: only while the key holds the expected value', async () => {
      expect(await s.compareAndDelete('claim', 'mine')).toBe(false);
      await s.set('claim', 'theirs', 60);
      expect(await s.compareAndDelete('claim', 'mine')).toBe(false);
      expect(await s.get('claim')).toBe('theirs');
      await s.set('claim', 'mine', 60);
      const results = await Promise.all(Array.from({ length: 10 }, () => s.compareAndDelete('claim', 'mine')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.get('claim')).toBeUndefined();
    });

    test('delete removes several keys', async () => {
      await s.set('d1', '1', 60);
      await s.set('d2', '2', 60);
      await s.delete('d1', 'd2', 'never-there');
      expect(await s.get('d1')).toBeUndefined();
      expect(await s.get('d2')).toBeUndefined();
    });

    test('increment counts atomically under concurrency, within one fixed window', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => s.increment('hits', 60)));
      expect(results.map((r) => r.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      for (const r of results) expect(r.ttl).toBeGreaterThan(0);
      expect(results.every((r) => r.ttl <= 60)).toBe(true);
      await expect(s.increment('hits', 0)).rejects.toThrow(/ttl/);
    });

    test('increment never extends its window, and a new window starts from one', async () => {
      expect((await s.increment('w', 2)).count).toBe(1);
      const later = await s.increment('w', 60);
      expect(later.count).toBe(2);
      expect(later.ttl).toBeLessThanOrEqual(2);
      await h.advance(3);
      expect(await s.increment('w', 60)).toEqual({ count: 1, ttl: 60 });
    });

    test('every key it writes carries a TTL', async () => {
      await s.set('k1', 'v', 60);
      await s.setIfAbsent('k2', 'v', 60);
      await s.swap('k3', 'v', 60);
      await s.increment('k4', 60);
      for (const key of ['k1', 'k2', 'k3', 'k4']) expect(await s.ttl(key)).toBeGreaterThan(0);
    });

    const full = options.full;
    if (full)
      test('full: a write is refused as an outage, nothing evicted; reads, take and delete answer; room again once entries expire', async () => {
        const f = await full();
        try {
          const value = 'v'.repeat(2000);
          let written = 0;
          let refused: unknown;
          while (refused === undefined && written < 10_000)
            await f.store.set(`fill-${written}`, value, 2).then(
              () => {
                written += 1;
              },
              (err: unknown) => {
                refused = err;
              },
            );
          expect(written).toBeGreaterThan(5);
          expect(isStoreUnavailable(refused)).toBe(true);
          // nothing written before was dropped to make room
          for (let i = 0; i < written; i += 1) expect(await f.store.get(`fill-${i}`)).toBe(value);
          expect(await f.store.take('fill-0')).toBe(value);
          await f.store.delete('fill-1');
          expect(await f.store.get('fill-1')).toBeUndefined();
          await f.advance(3);
          await f.store.set('after', 'x', 60);
          expect(await f.store.get('after')).toBe('x');
          expect(await f.store.get('fill-2')).toBeUndefined();
        } finally {
          await f.teardown();
        }
      });

    describe('as node-oidc-provider Adapter', () => {
      const Adapter = () => storeAdapterFactory(s);

      test('upsert/find/findByUid/consume/destroy', async () => {
        const A = Adapter();
        const sessions = new A('Session');
        await sessions.upsert('s1', { uid: 'u1', accountId: 'x' } as never, 60);
        expect(await sessions.find('s1')).toMatchObject({ uid: 'u1' });
        expect(await sessions.findByUid('u1')).toMatchObject({ accountId: 'x' });
        const codes = new A('AuthorizationCode');
        await codes.upsert('c1', { grantId: 'g1' } as never, 60);
        await codes.consume('c1');
        expect((await codes.find('c1'))?.consumed).toEqual(expect.any(Number));
        await sessions.destroy('s1');
        expect(await sessions.find('s1')).toBeUndefined();
        expect(await sessions.findByUid('u1')).toBeUndefined();
      });

      test('findByUserCode and its index removed on destroy', async () => {
        const A = Adapter();
        const device = new A('DeviceCode');
        await device.upsert('d1', { userCode: 'ABCD-EFGH', grantId: 'g9' } as never, 60);
        expect(await device.findByUserCode('ABCD-EFGH')).toMatchObject({ grantId: 'g9' });
        await device.destroy('d1');
        expect(await device.findByUserCode('ABCD-EFGH')).toBeUndefined();
      });

      test('a code redeemed several times at once: one consume succeeds, the others revoke the grant', async () => {
        const A = Adapter();
        const codes = new A('AuthorizationCode');
        const tokens = new A('AccessToken');
        await codes.upsert('c2', { grantId: 'g5' } as never, 60);
        await tokens.upsert('at5', { grantId: 'g5' } as never, 60);
        await s.set('oidc:Grant:g5', '{}', 60);
        const results = await Promise.allSettled([codes.consume('c2'), codes.consume('c2'), codes.consume('c2')]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((r) => r.status === 'rejected'))
          expect((r as PromiseRejectedResult).reason).toMatchObject({ error: 'invalid_grant' });
        // the grant is gone, and with it everything issued under it (the engine refuses a code or token whose
        // grant it cannot load); the rest is left to expire
        expect(await s.get('oidc:Grant:g5')).toBeUndefined();
        await Promise.all([codes.destroy('c2'), tokens.destroy('at5')]);
        expect(await h.keys()).toEqual([]);
      });

      test('destroy removes the model, its consumed marker and its uid index; an absent model is no error', async () => {
        const A = Adapter();
        // a model the engine consumes (a refresh token), with a uid index
        const tokens = new A('RefreshToken');
        await tokens.upsert('r3', { uid: 'u3' } as never, 60);
        await tokens.consume('r3');
        expect((await tokens.find('r3'))?.consumed).toEqual(expect.any(Number));
        await expect(tokens.consume('r3')).rejects.toMatchObject({ error: 'invalid_grant' });
        await tokens.destroy('r3');
        await tokens.destroy('never-stored');
        // a model the engine never consumes (a session): its destroy leaves nothing either
        const sessions = new A('Session');
        await sessions.upsert('s3', { uid: 'u4' } as never, 60);
        await sessions.destroy('s3');
        expect(await h.keys()).toEqual([]);
      });

      test('an interaction destroyed several times at once (its resume): one destroy claims it, the others fail', async () => {
        const A = Adapter();
        const interactions = new A('Interaction');
        await interactions.upsert('i1', { uid: 'i1', returnTo: '/auth/i1' } as never, 60);
        const results = await Promise.allSettled([1, 2, 3].map(() => interactions.destroy('i1')));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results.filter((r) => r.status === 'rejected'))
          expect((r as PromiseRejectedResult).reason).toMatchObject({ error: 'invalid_request' });
        expect(await h.keys()).toEqual([]);
      });

      test('revokeByGrantId deletes the grant, which the engine loads before it accepts any of its tokens', async () => {
        const A = Adapter();
        const grants = new A('Grant');
        await grants.upsert('g2', { clientId: 'rp' } as never, 60);
        await grants.upsert('g3', { clientId: 'rp' } as never, 60);
        await new A('AccessToken').revokeByGrantId('g2');
        expect(await grants.find('g2')).toBeUndefined();
        expect(await grants.find('g3')).toBeDefined();
      });

      test('a record is stored without the jti and kind its key names, found with them; one that differs is kept whole', async () => {
        const A = Adapter();
        const grants = new A('Grant');
        const grant = { jti: 'g7', kind: 'Grant', clientId: 'rp', openid: { scope: 'openid' } };
        await grants.upsert('g7', grant as never, 60);
        expect(JSON.parse((await s.get('oidc:Grant:g7'))!)).toEqual({ clientId: 'rp', openid: { scope: 'openid' } });
        expect(await grants.find('g7')).toEqual(grant);
        // a record whose jti is not its id is stored and found whole, as is one written with both (an earlier version)
        await grants.upsert('g8', { ...grant, jti: 'other' } as never, 60);
        expect(JSON.parse((await s.get('oidc:Grant:g8'))!)).toEqual({ ...grant, jti: 'other' });
        expect(await grants.find('g8')).toEqual({ ...grant, jti: 'other' });
        await s.set('oidc:Grant:g9', JSON.stringify({ ...grant, jti: 'g9' }), 60);
        expect(await grants.find('g9')).toEqual({ ...grant, jti: 'g9' });
        // consuming rewrites the record the same way
        const tokens = new A('RefreshToken');
        await tokens.upsert('r7', { jti: 'r7', kind: 'RefreshToken', grantId: 'g7' } as never, 60);
        await tokens.consume('r7');
        expect(JSON.parse((await s.get('oidc:RefreshToken:r7'))!)).toEqual({
          grantId: 'g7',
          consumed: expect.any(Number),
        });
        expect(await tokens.find('r7')).toEqual({
          jti: 'r7',
          kind: 'RefreshToken',
          grantId: 'g7',
          consumed: expect.any(Number),
        });
      });

      test('nothing outlives its model: after expiry no key remains', async () => {
        const A = Adapter();
        const sessions = new A('Session');
        await sessions.upsert('s2', { uid: 'u2' } as never, 1);
        await new A('AccessToken').upsert('at2', { grantId: 'g4' } as never, 1);
        await h.advance(2);
        expect(await h.keys()).toEqual([]);
      });
    });
  });
}

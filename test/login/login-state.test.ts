// The broker's login states on both stores: a new start replaces the earlier login of the same interaction
// (its state then finds nothing, but is remembered as spent for the way back), and the interaction points
// at the latest login. The new login, the read of the earlier one and the pointer's write go out in one
// batch: on Redis this holds only because the read of login-of:<uid> runs before its write.
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../src/store/memory.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/store.ts';
import { LoginStates, newState, type LoginRecord } from '../../src/login/login-state.ts';

const record = (uid: string, providerId: string): LoginRecord => ({
  uid,
  providerId,
  clientId: 'svc',
  locale: 'lv',
  correlationId: uid,
  browser: 'digest',
  connData: null,
  createdAt: Date.now(),
});

const prefix = `vpmtest:states:${randomBytes(6).toString('hex')}:`;

describe.each([
  ['memory', () => new MemoryStore() as Store],
  ['redis', () => new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix }) as Store],
])('login states on %s', (_name, makeStore) => {
  let store: Store;
  let states: LoginStates;
  beforeEach(() => {
    store = makeStore();
    states = new LoginStates(store, 60);
  });
  afterEach(async () => {
    if (store instanceof RedisStore) {
      const keys = await store.client.keys(`${prefix}*`);
      if (keys.length) await store.client.del(...keys);
    }
    await store.close();
  });

  test('a second start replaces the first: the first state is spent, the interaction points at the second', async () => {
    const uid = `uid-${randomBytes(4).toString('hex')}`;
    const first = newState();
    const second = newState();
    await states.create(first, record(uid, 'bank-a'));
    expect(await states.ofInteraction(uid)).toEqual({ uid, providerId: 'bank-a', state: first });
    await states.create(second, record(uid, 'bank-b'));
    expect(await states.ofInteraction(uid)).toEqual({ uid, providerId: 'bank-b', state: second });
    expect(await states.take(first)).toBeUndefined();
    expect(await states.spent(first)).toEqual({ uid, providerId: 'bank-a', state: first });
    expect(await states.take(second)).toMatchObject({ uid, providerId: 'bank-b' });
    // single use, and remembered for the way back
    expect(await states.take(second)).toBeUndefined();
    expect(await states.spent(second)).toEqual({ uid, providerId: 'bank-b' });
  });

  test('the first start of an interaction leaves nothing spent; a state is stored once only', async () => {
    const uid = `uid-${randomBytes(4).toString('hex')}`;
    const state = newState();
    await states.create(state, record(uid, 'bank-a'));
    expect(await states.spent(state)).toBeUndefined();
    await expect(states.create(state, record(uid, 'bank-a'))).rejects.toThrow('broker state collision');
    expect(await states.take(state)).toMatchObject({ uid, providerId: 'bank-a' });
  });
});

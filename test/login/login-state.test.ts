// The broker's login states on both stores: a new start replaces the earlier login of the same interaction
// (its state then finds nothing, but is remembered as spent for the way back), and the interaction points
// at the latest login. The pointer is swapped in one atomic step, so starts at once on several instances
// still leave one live login, also when the network splits an instance's commands (each runs in the
// order sent, but others' commands may come in between).
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

/** One instance's connection to the store: its commands run one at a time in the order sent, each after a
 * random delay, so the commands of several instances interleave as they may on the network. */
function connection(store: Store): Store {
  let queue: Promise<unknown> = Promise.resolve();
  return new Proxy(store, {
    get(target, name, receiver) {
      const member = Reflect.get(target, name, receiver);
      if (typeof member !== 'function' || name === 'close') return member;
      return (...args: unknown[]) => {
        const done = queue.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
          return member.apply(target, args);
        });
        queue = done.catch(() => undefined);
        return done;
      };
    },
  });
}

const prefix = `vpmtest:states:${randomBytes(6).toString('hex')}:`;

describe.each([
  ['memory', (shared?: Store) => shared ?? (new MemoryStore() as Store)],
  ['redis', () => new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix }) as Store],
])('login states on %s', (_name, makeStore) => {
  let store: Store;
  let states: LoginStates;
  const others: Store[] = [];
  beforeEach(() => {
    store = makeStore();
    states = new LoginStates(store, 60);
  });
  afterEach(async () => {
    if (store instanceof RedisStore) {
      const keys = await store.client.keys(`${prefix}*`);
      if (keys.length) await store.client.del(...keys);
    }
    await Promise.all(others.splice(0).map((s) => (s === store ? undefined : s.close())));
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
    expect(await states.spent(first)).toEqual({ uid, providerId: 'bank-a', clientId: 'svc', locale: 'lv', used: true });
    expect(await states.take(second)).toMatchObject({ uid, providerId: 'bank-b' });
    // single use, and remembered for the way back
    expect(await states.take(second)).toBeUndefined();
    expect(await states.spent(second)).toEqual({
      uid,
      providerId: 'bank-b',
      clientId: 'svc',
      locale: 'lv',
      used: true,
    });
  });

  test('a live state is traced as unused (the way back for an answer after it expires); it is stored once only', async () => {
    const uid = `uid-${randomBytes(4).toString('hex')}`;
    const state = newState();
    await states.create(state, record(uid, 'bank-a'));
    expect(await states.spent(state)).toMatchObject({ uid, providerId: 'bank-a', used: false });
    await expect(states.create(state, record(uid, 'bank-a'))).rejects.toThrow('broker state collision');
    expect(await states.take(state)).toMatchObject({ uid, providerId: 'bank-a' });
  });

  test('starts at once on several instances leave exactly one live login, the one the interaction points at', async () => {
    for (let round = 0; round < 5; round++) {
      const uid = `uid-${randomBytes(4).toString('hex')}`;
      const instances = Array.from({ length: 8 }, () => {
        const s = makeStore(store);
        others.push(s);
        return new LoginStates(connection(s), 60);
      });
      const started = instances.map(() => newState());
      await Promise.all(instances.map((inst, i) => inst.create(started[i]!, record(uid, `bank-${i}`))));
      const latest = await states.ofInteraction(uid);
      const live = (await Promise.all(started.map((s) => states.take(s)))).filter(Boolean);
      expect(live).toHaveLength(1);
      expect(live[0]).toMatchObject({ uid, providerId: latest!.providerId });
    }
  });
});

test('an expired login state still finds its login, as unused, until the trace lifetime; then nothing', async () => {
  let clock = 0;
  const store = new MemoryStore(() => Date.now() + clock);
  const states = new LoginStates(store, 60, 120);
  const state = newState();
  await states.create(state, record('uid-expiring', 'bank-a'));
  clock = 61_000;
  expect(await states.take(state)).toBeUndefined();
  expect(await states.spent(state)).toEqual({
    uid: 'uid-expiring',
    providerId: 'bank-a',
    clientId: 'svc',
    locale: 'lv',
    used: false,
  });
  clock = 121_000;
  expect(await states.spent(state)).toBeUndefined();
  await store.close();
});

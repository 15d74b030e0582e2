// A login's state taken by a provider's answer while the same answer comes again (a double click, another
// instance within one round trip): until the taker has written the state's trace, a second take learns from
// the mark the first take left what took the state, on both stores. The same answer from the same browser is
// then a resubmission; another browser's, or another answer, is not; nothing is left behind once the trace
// is written.
import { randomBytes } from 'node:crypto';
import { MemoryStore } from '../../src/store/memory.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/store.ts';
import {
  LoginStates,
  type LoginTrace,
  newState,
  type LoginRecord,
  type Take,
  takerDigest,
} from '../../src/login/login-state.ts';
import { isResubmission } from '../../src/login/resubmission.ts';

/** A login of interaction `uid` at the bank; the trace of its spent state keeps what the login names. */
const record = (uid: string): LoginRecord => {
  const named = { uid, providerId: 'bank', clientId: 'svc', locale: 'lv' } as const;
  return { ...named, correlationId: uid, browser: 'digest', connData: null, createdAt: Date.now() };
};

/** The store with a taker's writes of a trace held until `release()`; `nextHeld()` resolves once the next one
 * waits. */
function holdingTraces(inner: Store) {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const waiting: (() => void)[] = [];
  const nextHeld = () => new Promise<void>((resolve) => waiting.push(resolve));
  const store = new Proxy(inner, {
    get(target, name) {
      if (name === 'set')
        return async (key: string, value: string, ttl: number) => {
          if (key.startsWith('spent:') && JSON.parse(value).used === true) {
            for (const resolve of waiting.splice(0)) resolve();
            await released;
          }
          return target.set(key, value, ttl);
        };
      const member: unknown = Reflect.get(target, name, target);
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
  return { store, release, nextHeld };
}

const recorded = (taken: Take) => (taken.login ? taken.spentRecorded : undefined);

const prefix = `vpmtest:taken:${randomBytes(6).toString('hex')}:`;

describe.each([
  ['memory', () => new MemoryStore() as Store],
  ['redis', () => new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix }) as Store],
])('a state taken on %s', (_name, makeStore) => {
  let inner: Store;
  afterEach(async () => {
    if (inner instanceof RedisStore) {
      const keys = await inner.client.keys(`${prefix}*`);
      if (keys.length) await inner.client.del(...keys);
    }
    await inner.close();
  });

  test('before its trace is written, a second take finds what took it; after, the trace says the same and no mark is left', async () => {
    inner = makeStore();
    const { store, release } = holdingTraces(inner);
    const states = new LoginStates(store, 60, 120);
    const state = newState();
    await states.create(state, record('u1'));
    const first = await states.takeLive(state, { answer: 'answer', browser: 'b1' });
    expect(first.login).toMatchObject({ uid: 'u1' });

    const expected: LoginTrace = {
      uid: 'u1',
      providerId: 'bank',
      clientId: 'svc',
      locale: 'lv',
      used: true,
      taken: takerDigest('answer', 'b1'),
    };
    // the trace on its way: a replay by another browser, another answer, the same one again
    for (const [answer, browser, resubmitted] of [
      ['answer', 'b2', false],
      ['other', 'b1', false],
      ['answer', undefined, false],
      ['answer', 'b1', true],
    ] as const) {
      const again = await states.takeLive(state, { answer, browser });
      expect(again).toEqual({ spent: expected });
      expect(isResubmission(expected, answer, browser)).toBe(resubmitted);
    }

    release();
    await recorded(first);
    expect(await states.takeLive(state, { answer: 'answer', browser: 'b1' })).toEqual({ spent: expected });
    expect(await inner.get(`login:${state}`)).toBeUndefined();
  });

  test('a state taken without a browser binding, or replaced by a new start: a second take finds it used, by nothing to recognise', async () => {
    inner = makeStore();
    const { store, release, nextHeld } = holdingTraces(inner);
    const states = new LoginStates(store, 60, 120);
    const [unbound, replaced] = [newState(), newState()];
    await states.create(unbound, record('u2'));
    const first = await states.takeLive(unbound, { answer: 'answer', browser: undefined });
    expect(first.login).toMatchObject({ uid: 'u2' });
    const used = { uid: 'u2', providerId: 'bank', clientId: 'svc', locale: 'lv', used: true };
    expect(await states.takeLive(unbound, { answer: 'answer', browser: 'b1' })).toEqual({ spent: used });

    await states.create(replaced, record('u3'));
    const held = nextHeld();
    const starting = states.create(newState(), record('u3'));
    // the new start has taken the earlier state, its trace on its way
    await held;
    expect(await states.takeLive(replaced, { answer: 'answer', browser: 'b1' })).toEqual({
      spent: { ...used, uid: 'u3' },
    });
    release();
    await Promise.all([recorded(first), starting]);
    expect(await inner.get(`login:${unbound}`)).toBeUndefined();
    expect(await inner.get(`login:${replaced}`)).toBeUndefined();
  });
});

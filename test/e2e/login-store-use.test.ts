// What one complete login costs the store and leaves in it. The store is wrapped to count its calls and
// the round trips a pipelining client makes of them: a change that adds a call or a round trip to the
// login fails here, so one is added on purpose, with this budget raised, or not at all. Once the engine
// has resumed the login, the login flow's markers for its interaction are gone. (The key set's reload, the
// only store use on a timer, first runs keys.reload_interval = 30 s after start: after these tests.)
import { afterEach, expect, test } from '@jest/globals';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/store.ts';
import { exchangeCode, loginThroughMock, useGateway } from '../support/gateway.ts';

const calls: string[] = [];
const memory = new MemoryStore();
/** Round trips as a pipelining Redis client makes them: the calls issued before the next macrotask go out
 * together and are answered together, so calls that wait for one another take one round trip each. */
let roundTrips = 0;
let batch: (() => void)[] | undefined;
function pipelined<T>(run: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (!batch) {
      batch = [];
      roundTrips += 1;
      setImmediate(() => {
        const sent = batch!;
        batch = undefined;
        for (const answer of sent) answer();
      });
    }
    batch.push(() => run().then(resolve, reject));
  });
}
/** The memory store, pipelined, each call named by method and the kind of key (its first segment). */
const counted = new Proxy(memory, {
  get(target, name, receiver) {
    const value = Reflect.get(target, name, receiver) as unknown;
    if (typeof value !== 'function' || name === 'close') return value;
    return (...args: unknown[]) => {
      calls.push(`${String(name)} ${String(args[0]).split(':')[0]}`);
      return pipelined(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
    };
  },
}) as Store;
const gw = useGateway({ store: counted });

afterEach(() => {
  calls.length = 0;
});

/** Store calls of one login through the mock eID, its code exchanged for tokens. */
async function oneLogin(): Promise<{ uid: string; calls: string[]; trips: number }> {
  const before = roundTrips;
  const login = await loginThroughMock(gw.rp, { ui_locales: 'en' });
  await exchangeCode(gw.rp, login, login.final);
  const uid = new URL(login.hop.location!).pathname.split('/')[2]!;
  return { uid, calls: [...calls], trips: roundTrips - before };
}

test('a complete login stays within its budget of store calls and round trips', async () => {
  await oneLogin(); // first use: clients and keys read once
  calls.length = 0;
  const { calls: used, trips } = await oneLogin();
  // 41 calls through the mock eID (7 of them the rate limits of seven requests: five of the gateway's, the
  // mock's own two pages under /providers), one of them the markers' delete, one the trace that lets an
  // answer after the login's lifetime still find its way back (in the start's round trip), one the spent
  // code's record deleted once its marker answers for it, one the mark the answer's take of the login state
  // left deleted once the state's trace is written (src/login/login-state.ts)
  expect(used.length).toBeLessThanOrEqual(41);
  // and 32 round trips (two of them the mock's pages' rate limits, the two deletes after a marker or trace,
  // which no response waits for): what one user's login waits for, one after another
  expect(trips).toBeLessThanOrEqual(32);
  expect(used.filter((c) => c === 'delete oidc')).toHaveLength(1);
  // the markers of the interaction deleted once, after the resume
  expect(used.filter((c) => c === 'delete seen')).toHaveLength(1);
});

test('the token request reads its session, grant and account together: round trips within budget', async () => {
  const login = await loginThroughMock(gw.rp, { ui_locales: 'en' });
  const before = roundTrips;
  await exchangeCode(gw.rp, login, login.final);
  // the code (with its marker), then session index + grant + account read ahead together, the session, the
  // lease, the access token, "issuing", "issued": 7 (9 reading one after another); then the spent code's
  // record deleted, which the response does not wait for
  expect(roundTrips - before).toBeLessThanOrEqual(8);
});

test('after the resume, the login flow keeps nothing of the interaction', async () => {
  const { uid } = await oneLogin();
  await new Promise((r) => setTimeout(r, 50)); // the markers go after the resume's response
  for (const key of [`seen:${uid}`, `starts:${uid}`, `login-of:${uid}`]) expect(await memory.get(key)).toBeUndefined();
});

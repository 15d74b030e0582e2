// What one complete login costs the store and leaves in it. The store is wrapped to count its calls (each
// a Redis round trip at least): a change that adds one to the login fails here, so a round trip is added
// on purpose, with this budget raised, or not at all. Once the engine has resumed the login, the login
// flow's markers for its interaction are gone.
import { afterEach, expect, test } from '@jest/globals';
import { MemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/store.ts';
import { exchangeCode, loginThroughMock, useGateway } from '../support/gateway.ts';

const calls: string[] = [];
const memory = new MemoryStore();
/** The memory store, each call named by method and the kind of key (its first segment). */
const counted = new Proxy(memory, {
  get(target, name, receiver) {
    const value = Reflect.get(target, name, receiver) as unknown;
    if (typeof value !== 'function' || name === 'close') return value;
    return (...args: unknown[]) => {
      calls.push(`${String(name)} ${String(args[0]).split(':')[0]}`);
      return (value as (...a: unknown[]) => unknown).apply(target, args);
    };
  },
}) as Store;
const gw = useGateway({ store: counted });

afterEach(() => {
  calls.length = 0;
});

/** Store calls of one login through the mock eID, its code exchanged for tokens. */
async function oneLogin(): Promise<{ uid: string; calls: string[] }> {
  const login = await loginThroughMock(gw.rp, { ui_locales: 'en' });
  await exchangeCode(gw.rp, login, login.final);
  const uid = new URL(login.hop.location!).pathname.split('/')[2]!;
  return { uid, calls: [...calls] };
}

test('a complete login stays within its budget of store calls', async () => {
  await oneLogin(); // first use: clients and keys read once
  calls.length = 0;
  const { calls: used } = await oneLogin();
  // 38 calls through the mock eID (5 of them the rate limits of five requests), one of them the markers' delete
  expect(used.length).toBeLessThanOrEqual(38);
  // the markers of the interaction deleted once, after the resume
  expect(used.filter((c) => c === 'delete seen')).toHaveLength(1);
});

test('after the resume, the login flow keeps nothing of the interaction', async () => {
  const { uid } = await oneLogin();
  await new Promise((r) => setTimeout(r, 50)); // the markers go after the resume's response
  for (const key of [`seen:${uid}`, `starts:${uid}`, `login-of:${uid}`]) expect(await memory.get(key)).toBeUndefined();
});

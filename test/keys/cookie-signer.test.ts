// The engine's cookie signer against Keygrip, which Koa would use in its place: the same signatures both
// ways (a cookie set by either verifies with the other), the index of a rotation's older key, and no
// signature accepted that no key made, whatever its length; a reload without a cookie key changes nothing.
import { expect, test } from '@jest/globals';
import Keygrip from 'keygrip';
import { CookieSigner } from '../../src/keys/cookie-signer.ts';
import { followCookieKeys } from '../../src/keys/engine-keys.ts';

const secrets = ['current-secret-ÄŠ', 'retired-secret'];
const data = '_interaction=abcdef0123456789';

test('signs as Keygrip does, and verifies what Keygrip signed with either key', () => {
  const signer = new CookieSigner(secrets);
  const grip = new Keygrip(secrets);
  expect(signer.sign(data)).toBe(grip.sign(data));
  expect(grip.index(data, signer.sign(data))).toBe(0);
  expect(signer.index(data, new Keygrip([secrets[1]!]).sign(data))).toBe(1);
  expect(signer.verify(data, grip.sign(data))).toBe(true);
});

test('refuses a signature no key made: another key, other data, a changed character, a wrong length', () => {
  const signer = new CookieSigner(secrets);
  const good = signer.sign(data);
  expect(signer.index(data, new Keygrip(['another']).sign(data))).toBe(-1);
  expect(signer.index(`${data}0`, good)).toBe(-1);
  expect(signer.index(data, `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`)).toBe(-1);
  expect(signer.index(data, good.slice(0, -1))).toBe(-1);
  expect(signer.index(data, '')).toBe(-1);
  expect(signer.verify(data, `${good}x`)).toBe(false);
});

test('refuses to start without a key', () => {
  expect(() => new CookieSigner([])).toThrow(/cookie keys/);
});

test('a key set reload without a cookie key keeps the signer in use, and says so', () => {
  const listeners: ((view: { cookies: string[] }) => void)[] = [];
  const ring = {
    view: { cookies: ['first'] },
    onChange: (listen: (typeof listeners)[number]) => listeners.push(listen),
  };
  const provider = {} as { keys?: unknown };
  const errors: string[] = [];
  const logger = { error: (message: string) => errors.push(message) };
  followCookieKeys(provider as never, ring as never, logger as never);
  const inUse = provider.keys as CookieSigner;
  expect(inUse.sign(data)).toBe(new Keygrip(['first']).sign(data));
  listeners[0]!({ cookies: [] });
  expect(provider.keys).toBe(inUse);
  expect(errors).toEqual([expect.stringMatching(/without a cookie key/)]);
  listeners[0]!({ cookies: ['second', 'first'] });
  expect((provider.keys as CookieSigner).sign(data)).toBe(new Keygrip(['second']).sign(data));
});

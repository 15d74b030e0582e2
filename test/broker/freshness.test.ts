// The window a provider's authentication time must fall in: after the login's start (less the clock skew and
// an entry's own upstream max_age) and, when the service sent max_age, after that bound less the skew only
// (OpenID Connect Core 3.1.2.1): an entry's max_age widens the first bound, never the service's.
import { expect, test } from '@jest/globals';
import { freshAuthTime } from '../../src/broker/freshness.ts';

const started = Date.UTC(2026, 11, 4, 12, 0, 0);
const now = started + 600_000; // the answer arrives ten minutes into the login
const serviceBound = now - 60_000; // the service sent max_age=60
const entry = { clockSkewSeconds: 30, maxAgeSeconds: 600 };

function refusal(
  authTimeMs: number,
  policy: Parameters<typeof freshAuthTime>[2],
  authenticatedNotBefore?: number,
): string | undefined {
  try {
    freshAuthTime(authTimeMs, { loginStartedAt: started, authenticatedNotBefore }, policy, 'auth_time', now);
    return undefined;
  } catch (err) {
    return `${(err as { code: string }).code} ${(err as Error).message}`;
  }
}

test("an entry's max_age widens the login's start, not the service's max_age", () => {
  // authenticated just after the login started: inside the entry's window, 595 s old when the answer arrives
  expect(refusal(started + 5_000, entry, serviceBound)).toMatch(
    /invalid_response .*older than the service's max_age allows/,
  );
  // an upstream session from before the login, which the entry's max_age alone would let through
  expect(refusal(started - 500_000, entry, serviceBound)).toMatch(/invalid_response/);
  expect(refusal(started - 500_000, entry)).toBeUndefined();
});

test("the service's bound allows the clock skew and no more", () => {
  expect(refusal(serviceBound - 30_000, entry, serviceBound)).toBeUndefined();
  expect(refusal(serviceBound - 30_001, entry, serviceBound)).toMatch(/older than the service/);
  expect(refusal(serviceBound - 30_001, { clockSkewSeconds: 30 }, serviceBound)).toMatch(/older/);
});

test("a service bound before the login's start leaves the login's own window deciding", () => {
  const early = started - 3_600_000;
  expect(refusal(started - 30_000, { clockSkewSeconds: 30 }, early)).toBeUndefined();
  expect(refusal(started - 31_000, { clockSkewSeconds: 30 }, early)).toMatch(/before this login started/);
});

// Moving the clock in a test: only Date moves; sockets, timers and microtasks stay real, so servers,
// deadlines and the store keep working while the code under test reads a later time.
import { jest } from '@jest/globals';

/** Moves the Date every part of the test process reads; jest.useRealTimers() moves it back. */
export function setClock(ms: number): void {
  jest.useFakeTimers({
    now: ms,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/** A certificate expiry watch seen through `scrape` as its expiry `notAfter` comes: ten days ahead, an hour
 * later (the same state within a day, warned of once), and a minute past it; the last scrape's result. */
export async function scrapesTowardsExpiry<T>(notAfter: number, scrape: () => Promise<T>): Promise<T> {
  for (const at of [notAfter - 10 * 86_400_000, notAfter - 10 * 86_400_000 + 3_600_000]) {
    setClock(at);
    await scrape();
  }
  setClock(notAfter + 60_000);
  return scrape();
}

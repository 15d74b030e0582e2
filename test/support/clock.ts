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

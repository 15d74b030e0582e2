// The authentication time of a Smart-ID login. The RP API signs no time: it is when the gateway first
// learnt that the session completed (SmartIdLogin.endedAt), written by whichever gateway instance served
// that poll, by its own clock, and read by the instance that takes the broker callback.
import { type AuthenticationWindow, ProviderError } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';

/** How far ahead of this instance's clock a session end may be: NTP keeps gateway instances within
 * milliseconds of each other, rarely a second or two. The end is never allowed before the login started:
 * there no clock difference excuses a reused answer. */
export const INSTANCE_CLOCK_SKEW_SECONDS = 5;

/** auth_time (whole seconds) of a session that ended at `endedAt` (ms), in the login's window (the callback
 * context's): never later than now, never before the login started (this instance's clock may be behind the
 * one that started it), nor before the service's max_age bound. Throws invalid_response when it is outside
 * the window. */
export function sessionEndAuthTime(
  endedAt: number | undefined,
  window: AuthenticationWindow,
  now = Date.now(),
): number {
  const skewMs = INSTANCE_CLOCK_SKEW_SECONDS * 1000;
  if (typeof endedAt === 'number' && endedAt > now + skewMs)
    throw new ProviderError(
      'invalid_response',
      `Smart-ID session end is ${Math.round((endedAt - now) / 1000)} s in the future (allowed ${INSTANCE_CLOCK_SKEW_SECONDS} s between gateway instances)`,
    );
  // the upper bound is the one above: no skew for the lower one
  const authTime = freshAuthTime(endedAt, window, { clockSkewSeconds: 0 }, 'Smart-ID session end', now + skewMs);
  return Math.max(Math.floor(window.loginStartedAt / 1000), Math.min(authTime, Math.floor(now / 1000)));
}

// The steps of a Smart-ID login's session that every page shares: begin it at the RP API, poll it, end it.
// A login moves identify → running → done only by compare-and-set on its stored record, so of two
// requests at once (a double submit, two tabs, the app's return racing the waiting page) one moves it and
// the other finds it moved: one login starts one RP API session and keeps the first way it ended.
import type { SmartIdAdapter } from './adapter.ts';
import type { Ending } from './results.ts';
import type { SmartIdLogin } from './sessions.ts';

/** What a page does next after a step: go to `next`, or (`undefined`) keep waiting. */
export type Next = string | undefined;

/** A poll answered without asking the RP API: another request of this login is polling it now, or its
 * session is still being started. The waiting page's script asks again shortly. */
export const BUSY = Symbol('busy');

/** How long one RP API call may take (each call is cut off there, ./rp-api.ts): a start unanswered for
 * longer died with its process and is given up. */
const callLimitMs = (adapter: SmartIdAdapter) => adapter.api.callLimitMs;

export function sessionSteps(adapter: SmartIdAdapter) {
  const { logins, api } = adapter;
  const base = adapter.pagesPath;
  const waitUrl = (handle: string) => `${base}/wait?h=${handle}`;

  function callbackFor(handle: string, login: SmartIdLogin): string {
    const url = new URL(login.callbackUrl);
    url.searchParams.set('state', login.state);
    url.searchParams.set('h', handle);
    return url.toString();
  }

  /** Record how the session ended (the first ending recorded wins) and say where the browser goes next.
   * `applies`: whether the ending still holds for the login as it is now (read again when it moved). */
  async function finish(
    handle: string,
    login: SmartIdLogin,
    ending: Ending,
    applies: (now: SmartIdLogin) => boolean = () => true,
  ): Promise<string> {
    let current: SmartIdLogin | undefined = login;
    let moved = false;
    // the authentication time (the RP API signs none): when the gateway learned of the ending, before OCSP
    const endedAt = Date.now();
    const checked = login.phase === 'done' || !adapter.revocation ? ending : await adapter.revocation.apply(ending);
    for (let tries = 0; current && current.phase !== 'done' && tries < 5; tries++) {
      if (!applies(current)) return waitUrl(handle); // the login went on another way: its page shows how
      const done: SmartIdLogin = { ...current, phase: 'done', ending: checked, endedAt };
      moved = await logins.advance(handle, current, done);
      current = moved ? done : await logins.get(handle); // moved meanwhile: it may have ended another way first
    }
    if (current) Object.assign(login, current);
    // once, by the request that ended it: the person's running session is free again
    if (moved) await adapter.notifications.settle(handle, login, ending.type === 'complete');
    const recorded = current?.ending ?? ending;
    if (recorded.type === 'complete' || recorded.type === 'cancel') return callbackFor(handle, login);
    adapter.logger.warn('Smart-ID session ended', {
      providerId: adapter.id,
      correlationId: login.reference,
      ending: recorded.type,
      ...detailOf(recorded),
    });
    return waitUrl(handle);
  }

  /** One poll of a running session, at most one per login at a time; where to go once it has ended. */
  async function pollOnce(handle: string, login: SmartIdLogin, timeoutMs: number): Promise<Next | typeof BUSY> {
    if (!login.sessionID) {
      // its start is in flight; a start whose request died with its process is given up in time
      if (Date.now() - (login.claimedAt ?? 0) < callLimitMs(adapter)) return BUSY;
      return finish(handle, login, { type: 'transport', reason: 'session start lost' }, (now) => !now.sessionID);
    }
    // held as long as the call may take whatever timeoutMs asks (SK may hold a short poll long too)
    const release = await logins.pollLease(handle, Math.ceil(callLimitMs(adapter) / 1000));
    if (!release) return BUSY;
    let polled: Awaited<ReturnType<typeof api.poll>>;
    try {
      polled = await api.poll(login.sessionID, timeoutMs);
    } finally {
      await release();
    }
    if (polled.running) return undefined;
    const fresh = (await logins.get(handle)) ?? login; // a cancel may have ended it first
    return finish(handle, fresh, fresh.ending ?? polled.ending);
  }

  /** Start the RP API session of a login still at its form. The login is claimed as `running` before the
   * RP API is called, so a second submit starts no second session (and no second notification on the
   * person's phone); the session's own fields are added once it has started. The claim restarts the
   * login's lifetime: session_ttl_seconds is the wait for the app, whatever time the form took. */
  async function begin<S extends { ok: true; sessionID: string }>(
    handle: string,
    login: SmartIdLogin,
    running: SmartIdLogin,
    start: () => Promise<S | { ok: false; ending: Ending }>,
    keep: (started: S) => Partial<SmartIdLogin> = () => ({}),
  ): Promise<{ next: string; live?: SmartIdLogin; lost?: true }> {
    const claimed: SmartIdLogin = { ...running, phase: 'running', claimedAt: Date.now() };
    if (login.phase !== 'identify' || !(await logins.advance(handle, login, claimed, true)))
      return { next: waitUrl(handle), lost: true }; // another request of this login started it
    const started = await start();
    if (!started.ok) return { next: await finish(handle, claimed, started.ending) };
    const live: SmartIdLogin = { ...claimed, sessionID: started.sessionID, ...keep(started) };
    // a cancel while the start was in flight ended the login first: its page says so
    if (!(await logins.advance(handle, claimed, live))) return { next: waitUrl(handle) };
    return { next: waitUrl(handle), live };
  }

  return { callbackFor, finish, pollOnce, begin, waitUrl };
}

export type SessionSteps = ReturnType<typeof sessionSteps>;

/** Operator detail of an ending: no personal data (no code, no document number). */
function detailOf(ending: Ending): Record<string, unknown> {
  if (ending.type === 'end') return { endResult: ending.endResult };
  if (ending.type === 'http') return { status: ending.status };
  if (ending.type === 'transport' || ending.type === 'revocation_unavailable') return { reason: ending.reason };
  if (ending.type === 'revoked') return { ocsp: ending.status };
  if (ending.type === 'person_limit')
    return { why: ending.why, starts: ending.starts, window_seconds: ending.window_seconds };
  return {};
}

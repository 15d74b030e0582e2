// Notification bombing: a session started by a typed personal code (RP API v3 notification, or v2) pushes a
// prompt to that person's phone, whoever typed the code, and a prompt confirmed by mistake (a wrong code
// choice passes 1 in 3) logs the typist's browser in. The per-address limits still let one address name one
// person hundreds of times, so each entry limits these sessions per person (the semantics identifier) in the
// shared store, where every worker and instance of the entry counts together:
// - one running at a time. A second start is refused rather than ending the earlier login: the RP API cannot
//   withdraw a prompt (a session ends only by the app's answer or its timeout), so ending the earlier login
//   would leave its prompt on the phone all the same and hand the person's live login (perhaps their own,
//   whose code they are comparing) to whoever started later. A holder whose login has ended, or whose session
//   the RP API reports ended when asked now, holds it no longer: a person who refused a prompt they did not
//   start can start their own at once.
// - at most `starts` per `window_seconds` (a fixed window). A start the person confirmed is given back: only
//   prompts left unconfirmed count, not a person logging in to several services in a row.
// Device links (QR, Web2App) name nobody: only whoever holds the phone can make its app ask.
import { createHmac } from 'node:crypto';
import type { Store } from '../../src/store/store.ts';
import type { SmartIdAdapter } from './adapter.ts';
import type { SmartIdConfig } from './config.ts';
import type { Started } from './rp-api.ts';
import type { Ending } from './results.ts';
import type { SessionSteps } from './session-steps.ts';
import type { SmartIdLogin } from './sessions.ts';

export type PersonLimitEnding = Extract<Ending, { type: 'person_limit' }>;

/** The shortest long poll SK allows: how long a refused start waits to learn whether the holder's session ended. */
const HOLDER_POLL_MS = 1000;

export class NotificationLimit {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly secret: string;
  private readonly limit: SmartIdConfig['notification_limit'];
  private readonly runningSeconds: number;

  /** `secret`: the entry's relying-party UUID. `runningSeconds`: how long a running session is held at most
   * (session_ttl_seconds, the login's own wait for the app). */
  constructor(store: Store, providerId: string, secret: string, config: SmartIdConfig) {
    this.store = store;
    this.prefix = `smartid:${providerId}:person:`;
    this.secret = secret;
    this.limit = config.notification_limit;
    this.runningSeconds = config.session_ttl_seconds;
  }

  /** Personal codes are few (a birth date and a few digits): a plain hash of one is reversed by trying them
   * all. An HMAC under the relying-party UUID, a secret every instance of the entry shares (SK knows the
   * gateway by it), gives every instance the same key and a reader of the store no way to test guesses. */
  private key(semanticsIdentifier: string, what: 'running' | 'starts'): string {
    const person = createHmac('sha256', this.secret)
      .update(`notification-limit|${semanticsIdentifier}`, 'utf8')
      .digest('base64url');
    return `${this.prefix}${person}:${what}`;
  }

  /** Take the person's running session for login `handle` and count its start: undefined, or the ending
   * when another login holds it (`ended(holder)` says whether that login is over) or the starts are spent. */
  async take(
    semanticsIdentifier: string,
    handle: string,
    ended: (holder: string) => Promise<boolean>,
  ): Promise<PersonLimitEnding | undefined> {
    const refused = (why: PersonLimitEnding['why']): PersonLimitEnding => ({
      type: 'person_limit',
      why,
      ...this.limit,
    });
    if (!(await this.hold(semanticsIdentifier, handle, ended))) return refused('running');
    const { count } = await this.store.increment(this.key(semanticsIdentifier, 'starts'), this.limit.window_seconds);
    if (count <= this.limit.starts) return undefined;
    await this.store.compareAndDelete(this.key(semanticsIdentifier, 'running'), handle);
    return refused('starts');
  }

  /** Whether login `handle` now holds the person's running session. */
  private async hold(semanticsIdentifier: string, handle: string, ended: (holder: string) => Promise<boolean>) {
    const key = this.key(semanticsIdentifier, 'running');
    for (let tries = 0; tries < 3; tries++) {
      if (await this.store.setIfAbsent(key, handle, this.runningSeconds)) return true;
      const holder = await this.store.get(key);
      if (holder === undefined) continue; // given back meanwhile
      if (holder === handle) return true;
      if (!(await ended(holder))) return false;
      // the holder's ending may have given it back already: then the next try sets it
      if (await this.store.compareAndSet(key, holder, handle, this.runningSeconds)) return true;
    }
    return false;
  }

  /** Login `handle` has just ended (`login` as recorded): the person's running session is free again, and a
   * start the person `confirmed` in the app (whatever the gateway's checks then make of it) is given back. */
  async settle(handle: string, login: SmartIdLogin, confirmed: boolean): Promise<void> {
    const person = login.semanticsIdentifier;
    if (!person || (login.flow !== 'notification' && login.flow !== 'v2')) return;
    await this.store.compareAndDelete(this.key(person, 'running'), handle);
    if (!confirmed) return;
    const key = this.key(person, 'starts');
    for (let tries = 0; tries < 5; tries++) {
      const [count, left] = await Promise.all([this.store.get(key), this.store.ttl(key)]);
      if (!count || !(Number(count) > 0) || left === undefined) return;
      if (await this.store.compareAndSet(key, count, String(Number(count) - 1), Math.max(1, left))) return;
    }
  }
}

/** A notification session's start, gated by the person's limit: refused, the login ends (its page and the
 * service's error come from the ending, ./results.ts) with one audit record, the person as the audit's
 * keyed subject hash, so that `audit query --personal-code` finds who was targeted. */
export function notificationGate(adapter: SmartIdAdapter, steps: SessionSteps) {
  const ended = async (holder: string): Promise<boolean> => {
    const login = await adapter.logins.get(holder);
    if (login?.phase !== 'running') return true; // gone, or ended
    return typeof (await steps.pollOnce(holder, login, HOLDER_POLL_MS)) === 'string';
  };
  return async (handle: string, login: SmartIdLogin, start: () => Promise<Started>): Promise<Started> => {
    const person = login.semanticsIdentifier ?? '';
    const refused = await adapter.notifications.take(person, handle, ended);
    if (!refused) return start();
    const { type: _type, ...detail } = refused;
    await adapter.audit
      .record({
        type: 'error',
        correlationId: login.reference,
        providerId: adapter.id,
        person: { subject: person },
        detail: { reason: 'rate_limited', bucket: 'smartid_person', ...detail },
      })
      .catch((err: Error) => adapter.logger.error('audit of a rate limit failed', { error: err.name }));
    return { ok: false, ending: refused };
  };
}

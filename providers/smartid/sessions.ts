// One Smart-ID login as this adapter keeps it in the gateway's store, under a random handle that only the
// user's waiting page and the broker's stored login know. The broker callback takes it (single use).
import { randomBytes } from 'node:crypto';
import type { Store } from '../../src/store/store.ts';
import type { CertificateLevel } from './certificate.ts';
import type { Lang } from './messages.ts';
import type { Ending } from './results.ts';

export interface SmartIdLogin {
  /** the broker's state, handed back with the callback */
  state: string;
  /** the digest of the binding of the browser that began the login (StartContext.browser): only that
   * browser is served this login's pages */
  browser: string;
  callbackUrl: string;
  lang: Lang;
  /** the login's correlation id: its ending page shows its start as the reference the help desk looks up */
  reference?: string;
  /** the agency service's name, shown in the app */
  displayText: string;
  requiredLevel: CertificateLevel;
  phase: 'identify' | 'running' | 'done';
  /** notification (personal code typed) or Web2App (the app on this phone, anonymous device link) */
  flow?: 'notification' | 'web2app' | 'qr' | 'v2';
  /** v2: the 64 random bytes whose SHA-512 was sent as the hash to sign (base64) */
  hashPreimage?: string;
  /** when a page claimed the login to start its RP API session (ms); sessionID follows once it started */
  claimedAt?: number;
  sessionID?: string;
  rpChallenge?: string;
  interactions?: string;
  semanticsIdentifier?: string;
  verificationCode?: string;
  /** Web2App: the session secret (never sent to the browser) and where the app returns the browser */
  sessionSecret?: string;
  initialCallbackUrl?: string;
  /** QR and Web2App: what the device link is rebuilt from (QR: each second; Web2App: for a second tap) */
  sessionToken?: string;
  deviceLinkBase?: string;
  /** QR: when the RP API answered the session start (ms): elapsedSeconds counts from here */
  linkStartedAt?: number;
  /** Web2App: what the app returned the browser with, checked against the signed userChallenge */
  userChallengeVerifier?: string;
  ending?: Ending;
  /** when the RP API first reported the session complete (ms): the authentication time */
  endedAt?: number;
}

export const newHandle = (): string => randomBytes(24).toString('base64url');
export const HANDLE = /^[A-Za-z0-9_-]{32}$/;

/** How long the way back to the service outlives a login: the longest login lifetime the gateway allows
 * (`ttl.login` at most 3600 s, src/config/schema.ts), so a login whose wait ran out still ends at the
 * broker callback with an OAuth error while the broker's login lives. It holds no personal data. */
export const WAY_BACK_SECONDS = 3600;

/** What a login keeps to end at the service once the rest of it has expired. */
type WayBack = Pick<SmartIdLogin, 'state' | 'browser' | 'callbackUrl' | 'lang'>;

/** A login whose record expired, as its way back shows it: ended, `expired`. */
function expiredLogin(raw: string): SmartIdLogin {
  const { state, browser, callbackUrl, lang } = JSON.parse(raw) as WayBack;
  return {
    state,
    browser,
    callbackUrl,
    lang,
    displayText: '',
    requiredLevel: 'QUALIFIED',
    phase: 'done',
    ending: { type: 'expired' },
  };
}

export class SmartIdLogins {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(store: Store, providerId: string, ttlSeconds: number) {
    this.store = store;
    this.prefix = `smartid:${providerId}:`;
    this.ttlSeconds = ttlSeconds;
  }

  /** A new login: its record lives session_ttl_seconds (begin() restarts it), its way back longer. */
  async create(handle: string, login: SmartIdLogin): Promise<void> {
    const back: WayBack = {
      state: login.state,
      browser: login.browser,
      callbackUrl: login.callbackUrl,
      lang: login.lang,
    };
    await this.store.set(this.backKey(handle), JSON.stringify(back), WAY_BACK_SECONDS);
    await this.store.set(this.prefix + handle, JSON.stringify(login), this.ttlSeconds);
  }

  /** The login, or once its record has expired, an `expired` ending while its way back lasts. */
  async get(handle: unknown): Promise<SmartIdLogin | undefined> {
    if (typeof handle !== 'string' || !HANDLE.test(handle)) return undefined;
    const raw = await this.store.get(this.prefix + handle);
    if (raw) return JSON.parse(raw) as SmartIdLogin;
    const back = await this.store.get(this.backKey(handle));
    return back ? expiredLogin(back) : undefined;
  }

  /** Move a login on from `from` (as read) to `to` in one atomic step, its expiry kept (`renew`: restarted at
   * session_ttl_seconds); false when it changed meanwhile (another request of the same login moved it
   * first) or has gone. */
  async advance(handle: string, from: SmartIdLogin, to: SmartIdLogin, renew = false): Promise<boolean> {
    const key = this.prefix + handle;
    const left = renew ? this.ttlSeconds : await this.store.ttl(key);
    if (left === undefined) return false;
    // the record was written by JSON.stringify, so the one read serialises back to the same text
    return this.store.compareAndSet(key, JSON.stringify(from), JSON.stringify(to), Math.max(1, left));
  }

  /** The right to poll a login's session at the RP API for up to `seconds`: one poll at a time per login,
   * however many pages or tabs ask, so a flood of status requests opens no flood of long polls at SK.
   * Undefined while another request holds it; otherwise the function that gives it back. */
  async pollLease(handle: string, seconds: number): Promise<(() => Promise<void>) | undefined> {
    const key = `${this.prefix}${handle}:poll`;
    const holder = randomBytes(12).toString('base64url');
    if (!(await this.store.setIfAbsent(key, holder, seconds))) return undefined;
    return async () => {
      await this.store.compareAndDelete(key, holder);
    };
  }

  /** The login for its callback (single use): the way back goes with it. */
  async take(handle: string): Promise<SmartIdLogin | undefined> {
    if (!HANDLE.test(handle)) return undefined;
    const raw = await this.store.take(this.prefix + handle);
    const back = await this.store.take(this.backKey(handle));
    if (raw) return JSON.parse(raw) as SmartIdLogin;
    return back ? expiredLogin(back) : undefined;
  }

  private backKey(handle: string): string {
    return `${this.prefix}${handle}:back`;
  }
}

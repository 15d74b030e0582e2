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

export class SmartIdLogins {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(store: Store, providerId: string, ttlSeconds: number) {
    this.store = store;
    this.prefix = `smartid:${providerId}:`;
    this.ttlSeconds = ttlSeconds;
  }

  create(handle: string, login: SmartIdLogin): Promise<void> {
    return this.store.set(this.prefix + handle, JSON.stringify(login), this.ttlSeconds);
  }

  async get(handle: unknown): Promise<SmartIdLogin | undefined> {
    if (typeof handle !== 'string' || !HANDLE.test(handle)) return undefined;
    const raw = await this.store.get(this.prefix + handle);
    return raw ? (JSON.parse(raw) as SmartIdLogin) : undefined;
  }

  /** Move a login on from `from` (as read) to `to` in one atomic step, its expiry kept; false when it changed
   * meanwhile (another request of the same login moved it first) or has gone. */
  async advance(handle: string, from: SmartIdLogin, to: SmartIdLogin): Promise<boolean> {
    const key = this.prefix + handle;
    const left = await this.store.ttl(key);
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

  async take(handle: string): Promise<SmartIdLogin | undefined> {
    if (!HANDLE.test(handle)) return undefined;
    const raw = await this.store.take(this.prefix + handle);
    return raw ? (JSON.parse(raw) as SmartIdLogin) : undefined;
  }
}

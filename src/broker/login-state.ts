// Broker-owned per-login state: created when the user picks a provider, found again by the state the
// protocol carries back (the interaction cookie does not travel on cross-site POSTs), taken exactly once.
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.ts';
import type { Loa } from '../identity/loa.ts';
import type { Locale } from './adapter.ts';

export interface LoginRecord {
  /** node-oidc-provider interaction uid this login belongs to */
  uid: string;
  providerId: string;
  clientId: string;
  acr?: Loa | undefined;
  locale: Locale;
  correlationId: string;
  connData: unknown;
  createdAt: number;
}

/** 20 random bytes: 27 url-safe characters, short enough for banklink's 30-character VK_RID. */
export function newState(): string {
  return randomBytes(20).toString('base64url');
}

const STATE_RE = /^[A-Za-z0-9_-]{27}$/;

export function isWellFormedState(state: unknown): state is string {
  return typeof state === 'string' && STATE_RE.test(state);
}

/** What is known of a login after its state was used or replaced: enough to offer the way back. */
export interface LoginTrace {
  uid: string;
  providerId: string;
}

export class LoginStates {
  private readonly store: Store;
  private readonly ttlSeconds: number;

  constructor(store: Store, ttlSeconds: number) {
    this.store = store;
    this.ttlSeconds = ttlSeconds;
  }

  /** Store a new login. One live login per interaction: a new start (the user chose again, or reloaded
   * the provider start) replaces the earlier one, whose state then finds nothing on the callback. */
  async create(state: string, record: LoginRecord): Promise<void> {
    const created = await this.store.setIfAbsent(`login:${state}`, JSON.stringify(record), this.ttlSeconds);
    if (!created) throw new Error('broker state collision');
    const trace = JSON.stringify({ uid: record.uid, providerId: record.providerId, state } satisfies LoginTrace & {
      state: string;
    });
    const previous = await this.store.get(`login-of:${record.uid}`);
    await this.store.set(`login-of:${record.uid}`, trace, this.ttlSeconds);
    if (previous) {
      const old = JSON.parse(previous) as LoginTrace & { state: string };
      if (old.state !== state && (await this.store.take(`login:${old.state}`)))
        await this.store.set(`spent:${old.state}`, previous, this.ttlSeconds);
    }
  }

  /** Single use: a second take of the same state finds nothing. Expired state is gone too. */
  async take(state: string): Promise<LoginRecord | undefined> {
    if (!isWellFormedState(state)) return undefined;
    const raw = await this.store.take(`login:${state}`);
    if (!raw) return undefined;
    const login = JSON.parse(raw) as LoginRecord;
    // a replay of this callback is refused, but the user is offered the way back to the service
    await this.store.set(
      `spent:${state}`,
      JSON.stringify({ uid: login.uid, providerId: login.providerId } satisfies LoginTrace),
      this.ttlSeconds,
    );
    return login;
  }

  /** The login a used or replaced state belonged to. */
  async spent(state: string): Promise<LoginTrace | undefined> {
    if (!isWellFormedState(state)) return undefined;
    const raw = await this.store.get(`spent:${state}`);
    return raw ? (JSON.parse(raw) as LoginTrace) : undefined;
  }

  /** The latest login started for an interaction (its provider), while the login lifetime lasts. */
  async ofInteraction(uid: string): Promise<LoginTrace | undefined> {
    const raw = await this.store.get(`login-of:${uid}`);
    return raw ? (JSON.parse(raw) as LoginTrace) : undefined;
  }
}

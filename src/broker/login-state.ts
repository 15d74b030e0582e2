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

export class LoginStates {
  private readonly store: Store;
  private readonly ttlSeconds: number;

  constructor(store: Store, ttlSeconds: number) {
    this.store = store;
    this.ttlSeconds = ttlSeconds;
  }

  async create(state: string, record: LoginRecord): Promise<void> {
    const created = await this.store.setIfAbsent(`login:${state}`, JSON.stringify(record), this.ttlSeconds);
    if (!created) throw new Error('broker state collision');
  }

  /** Single use: a second take of the same state finds nothing. Expired state is gone too. */
  async take(state: string): Promise<LoginRecord | undefined> {
    if (!isWellFormedState(state)) return undefined;
    const raw = await this.store.take(`login:${state}`);
    return raw ? (JSON.parse(raw) as LoginRecord) : undefined;
  }
}

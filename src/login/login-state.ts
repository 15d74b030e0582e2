// Broker-owned per-login state: created when the user picks a provider, found again by the state the
// protocol carries back (the interaction cookie does not travel on cross-site POSTs), taken exactly once.
import { createHash, randomBytes } from 'node:crypto';
import { isBeginningBrowser } from '../broker/adapter.ts';
import type { Store } from '../store/store.ts';
import type { Loa } from '../identity/loa.ts';
import type { UiLocale } from './locale.ts';
import { jsonRecords, type JsonRecords } from './records.ts';
import { LATEST_LOGIN_PREFIX } from './interaction-markers.ts';

export interface LoginRecord {
  /** node-oidc-provider interaction uid this login belongs to */
  uid: string;
  providerId: string;
  clientId: string;
  acr?: Loa | undefined;
  /** the service's max_age (s): the person must have authenticated no longer ago when the answer arrives */
  maxAge?: number | undefined;
  /** the language of the pages this login shows */
  locale: UiLocale;
  correlationId: string;
  /** digest of the browser's binding cookie at the start (src/web/browser-binding.ts): only that browser
   * may bring the provider's answer */
  browser: string;
  connData: unknown;
  createdAt: number;
}

/** What a login state keeps of a browser's binding value: its digest, never the value itself. */
export function browserDigest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Whether a callback came through the browser that began `login`. A missing value never matches, nor
 * does a login state without a digest (one begun by a gateway version before the binding). */
export function sameBrowser(login: LoginRecord, value: string | undefined): boolean {
  return isBeginningBrowser(value === undefined ? undefined : browserDigest(value), login.browser);
}

/** 20 random bytes: 27 url-safe characters, short enough for banklink's 30-character VK_RID. */
export function newState(): string {
  return randomBytes(20).toString('base64url');
}

const STATE_RE = /^[A-Za-z0-9_-]{27}$/;

export function isWellFormedState(state: unknown): state is string {
  return typeof state === 'string' && STATE_RE.test(state);
}

/** What is known of a login once its state is no longer live (used, replaced, or expired while the user
 * was at the provider): enough to offer the way back, in the login's language. */
export interface LoginTrace {
  uid: string;
  providerId: string;
  clientId?: string | undefined;
  locale?: UiLocale | undefined;
  /** false: the state was never used, so the login expired at the provider */
  used?: boolean | undefined;
  /** a state taken by a provider's answer through a browser with a binding value: one digest of both
   * (takerDigest), which a resubmission by that browser of that answer matches */
  taken?: string | undefined;
}

const traceOf = (login: LoginRecord, used: boolean): LoginTrace => ({
  uid: login.uid,
  providerId: login.providerId,
  clientId: login.clientId,
  locale: login.locale,
  used,
});

/** What took a state: a provider's answer (its digest) through a browser (its binding value, if any). */
export interface Taker {
  answer: string;
  browser: string | undefined;
}

/** 128 bits of a digest of the answer and the browser's binding value: short, for a record every login
 * leaves, and enough to tell this answer from this browser apart from any other (no secret is derived). */
export function takerDigest(answer: string, browser: string): string {
  return createHash('sha256')
    .update(answer)
    .update('\0')
    .update(browserDigest(browser))
    .digest('base64url')
    .slice(0, 22);
}

/** What a take leaves in the live state until the trace is written: the taker's digest ('' for none). */
const markOf = (taker: Taker | undefined): string =>
  taker?.browser === undefined ? '' : takerDigest(taker.answer, taker.browser);

/** The trace of a state taken with `mark`: the one its taker writes. */
const markedTrace = (trace: LoginTrace, mark: string): LoginTrace =>
  mark === '' ? { ...trace, used: true } : { ...trace, used: true, taken: mark };

/** What a take found: the login (this take's alone), or what is known of a login no longer live. */
export type Take =
  | { login: LoginRecord; spentRecorded: Promise<void> }
  | { login?: undefined; spent: LoginTrace | undefined };

export class LoginStates {
  /** the live login behind each state */
  private readonly live: JsonRecords<LoginRecord>;
  /** states used or replaced, with the login they belonged to */
  private readonly used: JsonRecords<LoginTrace>;
  /** the same for a state still live, written at its start: it outlives the login state, so an answer
   * arriving after the login expired still finds its login (until `traceSeconds`, the interaction's life) */
  private readonly unused: JsonRecords<LoginTrace>;
  /** the latest state started for each interaction */
  private readonly latest: JsonRecords<LoginTrace & { state: string }>;

  constructor(store: Store, ttlSeconds: number, traceSeconds = ttlSeconds) {
    this.live = jsonRecords(store, 'login:', ttlSeconds);
    this.used = jsonRecords(store, 'spent:', ttlSeconds);
    this.unused = jsonRecords(store, 'spent:', Math.max(ttlSeconds, traceSeconds));
    this.latest = jsonRecords(store, LATEST_LOGIN_PREFIX, ttlSeconds);
  }

  /** Store a new login. One live login per interaction: a new start (the user chose again, or reloaded
   * the provider start) replaces the earlier one, whose state then finds nothing on the callback. */
  async create(state: string, record: LoginRecord): Promise<void> {
    // one store round trip; the swap is atomic, so of two starts at once (two instances) the later finds
    // the earlier's state and ends it (a state collision, 160 random bits, throws either way). On a Redis
    // server the add lands before the swap (one connection, in order); on Cluster the two keys live on
    // different nodes, where the later start may find the earlier state before it lands: that state of the
    // same interaction then lives on until it expires, and starts stay bounded by limits.provider_starts
    const [added, previous] = await Promise.all([
      this.live.add(state, record),
      this.latest.swap(record.uid, { uid: record.uid, providerId: record.providerId, state }),
      this.unused.set(state, traceOf(record, false)),
    ]);
    if (!added) throw new Error('broker state collision');
    const replaced = previous && previous.state !== state ? await this.live.takeAndMark(previous.state, '') : undefined;
    if (replaced?.value) await this.settle(previous!.state, traceOf(replaced.value, true));
  }

  /** The spent trace written, then the taker's mark dropped: in this order, a take in between finds the mark.
   * Nothing waits for the drop; a mark left behind lives out the login's lifetime and still reads right. */
  private async settle(state: string, trace: LoginTrace): Promise<void> {
    await this.used.set(state, trace);
    this.live.delete(state).catch(() => {});
  }

  /** Single use: a second take of the same state finds nothing. Expired state is gone too. */
  async take(state: string): Promise<LoginRecord | undefined> {
    const taken = await this.takeLive(state);
    if (taken.login) await taken.spentRecorded;
    return taken.login;
  }

  /** take(), answering as soon as the login is taken: the record that offers a replay of this callback
   * the way back (`spentRecorded`) is written meanwhile, while the answer (`taker`, when a provider's
   * answer takes it) is verified. Without a live login: the login's trace (spent()). */
  async takeLive(state: string, taker?: Taker): Promise<Take> {
    if (!isWellFormedState(state)) return { spent: undefined };
    // the take leaves the taker's mark in one step with it: a second post of the answer at the same time
    // (another instance, within a round trip) learns what took the state before its trace is written
    const mark = markOf(taker);
    const taken = await this.live.takeAndMark(state, mark);
    if (taken?.value) {
      // a replay of this callback is refused, but the user is offered the way back to the service; the same
      // answer from the same browser is led on once it was verified (./resubmission.ts)
      const spentRecorded = this.settle(state, markedTrace(traceOf(taken.value, true), mark));
      spentRecorded.catch(() => {}); // awaited by the caller; a failure until then is not unhandled
      return { login: taken.value, spentRecorded };
    }
    const spent = await this.used.get(state);
    // taken a moment ago, the trace still on its way: the trace its taker is writing
    return { spent: taken?.mark !== undefined && spent?.used === false ? markedTrace(spent, taken.mark) : spent };
  }

  /** The login a used, replaced or expired state belonged to. */
  async spent(state: string): Promise<LoginTrace | undefined> {
    return isWellFormedState(state) ? this.used.get(state) : undefined;
  }

  /** The latest login started for an interaction (its provider), while the login lifetime lasts. */
  ofInteraction(uid: string): Promise<LoginTrace | undefined> {
    return this.latest.get(uid);
  }
}

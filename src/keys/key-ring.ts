// The key set as one running instance uses it: reloaded from `keys.dir` every `keys.reload_interval`
// seconds (and on demand), with each key's phase recomputed at each reload. A reload that fails, or
// that would leave a kind of key without one that signs, keeps the view already in use: keys that
// verified a moment ago are still valid, a half-written or broken set never replaces them.
import type { JWK } from 'jose';
import type { Logger } from '../logger.ts';
import { manifestDigest, missingCurrent, placeAll, type Placed, type ManifestEntry } from './lifecycle.ts';
import { cookieKeyId, publicJwk, TOKEN_ALGS, type TokenAlg, type TokenKey } from './material.ts';
import type { LoadedKeySet } from './key-dir.ts';

export interface KeyView {
  /** the digest of the key set this view comes from (lifecycle.ts manifestDigest) */
  digest: string;
  /** how new that set is: the latest creation time of its keys (epoch seconds; a rotation raises it) */
  generation: number;
  /** epoch seconds this view was computed for */
  at: number;
  /** per algorithm: the key that signs now */
  signing: Record<TokenAlg, TokenKey>;
  /** per algorithm: the current key, then the retired ones, newest first (they still verify an `id_token_hint`) */
  verifying: Record<TokenAlg, TokenKey[]>;
  /** the JWKS: next, current and retired keys, public halves only */
  published: JWK[];
  /** cookie keys: the current one first (it signs), then next and retired ones (they verify) */
  cookies: string[];
}

export class KeySetUnusable extends Error {
  override name = 'KeySetUnusable';
}

/** There is no key set at all (as opposed to one that cannot be used). */
export class NoKeySet extends KeySetUnusable {
  override name = 'NoKeySet';
}

/** Computes what an instance signs with and publishes at `now`; throws when a kind has no key that signs. */
export function viewOf(set: LoadedKeySet, now: number, retireAfter: number, staticCookies?: string[]): KeyView {
  const missing = missingCurrent(set.manifest, now);
  if (missing.length) throw new KeySetUnusable(`no ${missing.join(', no ')} signs yet`);
  const placed = placeAll(set.manifest, now, retireAfter);
  const live = <E extends ManifestEntry>(p: Placed<E>) => p.phase !== 'expired';
  const rank = { current: 0, next: 1, retired: 2, expired: 3 } as const;
  const byRank = <E extends ManifestEntry>(a: Placed<E>, b: Placed<E>) => rank[a.phase] - rank[b.phase];
  const token = placed.token.filter(live).sort(byRank);
  const keyOf = (p: Placed<ManifestEntry>) => set.token.get(p.entry.id)!;
  const signing = {} as Record<TokenAlg, TokenKey>;
  const verifying = {} as Record<TokenAlg, TokenKey[]>;
  for (const alg of TOKEN_ALGS) {
    const own = token.filter((p) => p.entry.alg === alg);
    signing[alg] = keyOf(own.find((p) => p.phase === 'current')!);
    // the newest retired keys first: the engine verifies an id_token_hint with the first SLOTS of them
    const retired = own.filter((p) => p.phase === 'retired').sort((a, b) => b.entry.activates - a.entry.activates);
    verifying[alg] = [signing[alg], ...retired.map(keyOf)];
  }
  const cookies =
    staticCookies ??
    placed.cookie
      .filter(live)
      .sort(byRank)
      .map((p) => set.cookie.get(p.entry.id)!.secret);
  return {
    // static cookie keys are part of what instances must share: a login moves between them
    digest: staticCookies
      ? `${manifestDigest(set.manifest)}+cookie_keys:${cookieKeyId(staticCookies.join('\n'))}`
      : manifestDigest(set.manifest),
    generation: Math.max(0, ...[...set.manifest.token, ...set.manifest.cookie].map((e) => e.created)),
    at: now,
    signing,
    verifying,
    published: token.map((p) => publicJwk(keyOf(p))),
    cookies,
  };
}

export interface KeyRingOptions {
  load(): Promise<LoadedKeySet | undefined>;
  retireAfter: number;
  /** config `cookie_keys`: a static set that replaces the key set's cookie keys */
  staticCookies?: string[] | undefined;
  now(): number;
  logger: Logger;
}

export class KeyRing {
  private current: KeyView;
  private readonly listeners: ((view: KeyView, previous: KeyView) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<KeyView> | undefined;

  private readonly o: KeyRingOptions;

  private constructor(o: KeyRingOptions, first: KeyView) {
    this.o = o;
    this.current = first;
  }

  /** The first view: a missing or unusable key set is refused here, before the instance serves anything. */
  static async open(o: KeyRingOptions): Promise<KeyRing> {
    const set = await o.load();
    if (!set) throw new NoKeySet('no key set');
    return new KeyRing(o, viewOf(set, o.now(), o.retireAfter, o.staticCookies));
  }

  get view(): KeyView {
    return this.current;
  }

  /** Called after each reload that changed what is signed, published or verified. */
  onChange(listener: (view: KeyView, previous: KeyView) => void): void {
    this.listeners.push(listener);
  }

  /** Reloads the key set and recomputes the phases now; concurrent calls share one reload. */
  reload(): Promise<KeyView> {
    this.reloading ??= this.reloadOnce().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async reloadOnce(): Promise<KeyView> {
    let next: KeyView;
    try {
      const set = await this.o.load();
      if (!set) throw new KeySetUnusable('the key set is gone');
      next = viewOf(set, this.o.now(), this.o.retireAfter, this.o.staticCookies);
    } catch (err) {
      this.o.logger.error('key set reload failed; keeping the keys in use', {
        error: (err as Error).name,
        message: (err as Error).message,
      });
      return this.current;
    }
    const previous = this.current;
    this.current = next;
    if (fingerprint(next) !== fingerprint(previous)) {
      this.o.logger.info('key set changed', {
        digest: next.digest,
        signing: TOKEN_ALGS.map((alg) => next.signing[alg].kid),
        published: next.published.map((k) => k.kid),
      });
      for (const listener of this.listeners) listener(next, previous);
    }
    return next;
  }

  /** Reload every `seconds` until stopped (the timer never keeps the process alive). */
  start(seconds: number, afterEach?: (view: KeyView) => Promise<void>): void {
    this.stop();
    this.timer = setInterval(() => {
      void this.reload().then(afterEach);
    }, seconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** What a change of view is about: key ids and cookie key order, not the time it was computed. */
function fingerprint(view: KeyView): string {
  return JSON.stringify([
    view.digest,
    TOKEN_ALGS.map((alg) => view.verifying[alg].map((k) => k.kid)),
    view.published.map((k) => k.kid),
    view.cookies,
  ]);
}

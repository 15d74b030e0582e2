// Which side of a key-set disagreement a running instance is on. Start refuses a set that differs from the
// running instances' (./open.ts); while running, sets part when one instance's key source changes and
// another's does not: a rotation copied to some hosts only, a stale or broken shared volume, an older set
// restored, another deployment's keys mounted. Tokens one side signs then fail at relying parties whose
// JWKS came from the other.
//
// Two instances disagree when each has run its own, different set, unchanged, for longer than one reload
// interval: every instance reads its source again within that interval, so a rotation seen by one reaches
// every instance that shares the source before then. Of two sides, the one fewer instances run is not
// ready (load balancers then send logins to the others only); on a tie the one whose set is older (its
// newest key was created earlier) is not ready, and when both are as new, both are: nothing says which is
// right. A shorter difference only shows in the `differing` count.
import type { Logger } from '../logger.ts';
import type { Roster, RosterEntry } from './agreement.ts';

/** Why an instance is not ready (a fixed phrase: /readyz shows it), or `ok`. */
export const KEY_SET_PHRASES = {
  ok: 'ok',
  fewer: 'another key set runs on more instances',
  older: 'a newer key set runs on as many instances',
  tied: 'another key set of the same age runs on as many instances',
} as const;

export type Standing = keyof typeof KEY_SET_PHRASES;

export interface KeyAgreement {
  /** `ok`, or why this instance's key set lost the disagreement */
  standing: Standing;
  /** the digests of the sets this instance has disagreed with for longer than a reload interval */
  disagreeing: string[];
  /** other live instances whose set differs from this one's now, however briefly */
  differing: number;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** The verdict for `own` among the other live instances (`others`), at `now`, all in epoch seconds. */
export function judge(own: RosterEntry, others: Roster, now: number, interval: number): KeyAgreement {
  const entries = Object.values(others).filter((e) => typeof e?.digest === 'string');
  const differing = entries.filter((e) => e.digest !== own.digest);
  const lasting = differing.filter((e) => Math.max(num(own.since), num(e.since)) + interval <= now);
  // how many live instances run `digest`, this one included
  const support = (digest: string) =>
    entries.filter((e) => e.digest === digest).length + (digest === own.digest ? 1 : 0);
  const mine = { count: support(own.digest), generation: num(own.generation) };
  let standing: Standing = 'ok';
  const rank: Standing[] = ['ok', 'tied', 'older', 'fewer'];
  for (const e of lasting) {
    const count = support(e.digest);
    const lost: Standing =
      count > mine.count
        ? 'fewer'
        : count < mine.count
          ? 'ok'
          : num(e.generation) > mine.generation
            ? 'older'
            : num(e.generation) === mine.generation
              ? 'tied'
              : 'ok';
    if (rank.indexOf(lost) > rank.indexOf(standing)) standing = lost;
  }
  return { standing, disagreeing: [...new Set(lasting.map((e) => e.digest))].sort(), differing: differing.length };
}

/** The latest verdict, logged once per change (not at every reload). */
export class AgreementWatch {
  private current: KeyAgreement = { standing: 'ok', disagreeing: [], differing: 0 };
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  get status(): KeyAgreement {
    return this.current;
  }

  /** Takes a new verdict for the set `digest`; says so when the standing or the disagreeing sets change. */
  update(next: KeyAgreement, digest: string): void {
    const previous = this.current;
    this.current = next;
    const changed = previous.standing !== next.standing || previous.disagreeing.join() !== next.disagreeing.join();
    if (!changed) return;
    const detail = { digest, others: next.disagreeing };
    if (next.standing !== 'ok')
      this.logger.error('key set disagreement: this instance is not ready', {
        ...detail,
        reason: KEY_SET_PHRASES[next.standing],
      });
    else if (next.disagreeing.length)
      this.logger.warn('key set disagreement: other instances run another key set; this one stays ready', detail);
    else this.logger.info('key sets agree again', { digest });
  }
}

// Instances sharing a store tell each other which key set they run: each writes the digest of the set it
// loaded into one roster document, refreshed at every reload, and an entry not refreshed for `staleAfter`
// seconds no longer counts (its instance has stopped). A relying party fetches the JWKS from whichever
// instance its request reaches, so an instance whose keys differ from those of the running ones must not
// start: tokens it signs would fail at relying parties served by the others, and theirs at its own. While
// running, the same roster tells which side of a disagreement an instance is on (./agreement-verdict.ts):
// each entry also says how new the set is and since when the instance runs it.
// The roster is read, changed and written back: two instances writing at the same moment may drop one
// entry until its next refresh, which only delays that instance's appearance by one reload.
import type { Store } from '../store/store.ts';

const ROSTER_KEY = 'keys:roster';

export interface RosterEntry {
  digest: string;
  /** epoch seconds of its last refresh */
  seen: number;
  /** how new the set is: the latest creation time (epoch seconds) of its keys */
  generation?: number;
  /** epoch seconds since which the instance runs this set */
  since?: number;
}

export type Roster = Record<string, RosterEntry>;

async function readRoster(store: Store): Promise<Roster> {
  const text = await store.get(ROSTER_KEY);
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Roster) : {};
  } catch {
    return {};
  }
}

export interface Announcement {
  instance: string;
  digest: string;
  generation: number;
  since: number;
  now: number;
  staleAfter: number;
}

/** Records this instance's digest; the other live instances as they were before, by instance id. */
export async function announce(store: Store, a: Announcement): Promise<Roster> {
  const roster = await readRoster(store);
  const others: Roster = {};
  for (const [id, entry] of Object.entries(roster))
    if (id !== a.instance && typeof entry?.digest === 'string' && a.now - entry.seen < a.staleAfter) others[id] = entry;
  const own: RosterEntry = { digest: a.digest, seen: a.now, generation: a.generation, since: a.since };
  await store.set(ROSTER_KEY, JSON.stringify({ ...others, [a.instance]: own }), a.staleAfter);
  return others;
}

/** Leaves the roster at shutdown, so a restart with new keys is not refused by its own old entry. */
export async function withdraw(store: Store, instance: string, now: number, staleAfter: number): Promise<void> {
  const roster = await readRoster(store);
  if (!(instance in roster)) return;
  const { [instance]: _gone, ...rest } = roster;
  const live = Object.entries(rest).filter(([, e]) => now - e.seen < staleAfter);
  if (live.length) await store.set(ROSTER_KEY, JSON.stringify(Object.fromEntries(live)), staleAfter);
  else await store.delete(ROSTER_KEY);
}

/** The digests other live instances run that differ from `digest`. */
export function disagreeing(others: Roster, digest: string): [string, string][] {
  return Object.entries(others)
    .filter(([, e]) => e.digest !== digest)
    .map(([id, e]) => [id, e.digest]);
}

// A key's phase follows from two times written once when it is created, so every instance that loaded the
// same key set reaches the same answer without coordinating:
// - `next` until `activates`: published (JWKS, cookie verification) but never used to sign, so relying
//   parties and every other instance know it before the first token it signs exists;
// - `current` from `activates` until a later key of its kind activates: the one that signs;
// - `retired` from then for `retireAfter` seconds (the longest life of anything it signed plus clock skew):
//   still published, still verifies;
// - `expired` after that: no longer published, removed from the key set by the next `keys rotate`.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { TOKEN_ALGS } from './material.ts';

export const PHASES = ['next', 'current', 'retired', 'expired'] as const;
export type Phase = (typeof PHASES)[number];

const entrySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{8,86}$/),
  /** epoch seconds the key was added (and published) */
  created: z.number().int().nonnegative(),
  /** epoch seconds from which it signs */
  activates: z.number().int().nonnegative(),
});

export const manifestSchema = z.strictObject({
  version: z.literal(1),
  token: z.array(entrySchema.extend({ alg: z.enum(TOKEN_ALGS) })),
  cookie: z.array(entrySchema),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = z.infer<typeof entrySchema>;
export type TokenEntry = Manifest['token'][number];

export interface Placed<E extends ManifestEntry> {
  entry: E;
  phase: Phase;
  /** when a retired key stops being published */
  until?: number;
}

/** The phases of one kind of key (the token keys of one algorithm, or the cookie keys) at `now`. */
export function place<E extends ManifestEntry>(entries: readonly E[], now: number, retireAfter: number): Placed<E>[] {
  const ordered = [...entries].sort((a, b) => a.activates - b.activates || a.created - b.created);
  const active = ordered.filter((e) => e.activates <= now);
  return ordered.map((entry) => {
    if (entry.activates > now) return { entry, phase: 'next' };
    const i = active.indexOf(entry);
    const successor = active[i + 1];
    if (!successor) return { entry, phase: 'current' };
    const until = successor.activates + retireAfter;
    return { entry, phase: now < until ? 'retired' : 'expired', until };
  });
}

/** Every key of the set with its phase: token keys per algorithm, then cookie keys. */
export function placeAll(manifest: Manifest, now: number, retireAfter: number) {
  return {
    token: TOKEN_ALGS.flatMap((alg) =>
      place(
        manifest.token.filter((e) => e.alg === alg),
        now,
        retireAfter,
      ),
    ),
    cookie: place(manifest.cookie, now, retireAfter),
  };
}

/** What a problem with the set means for signing: empty when every kind has a key that signs now. */
export function missingCurrent(manifest: Manifest, now: number): string[] {
  const kinds: [string, ManifestEntry[]][] = [
    ...TOKEN_ALGS.map((alg): [string, ManifestEntry[]] => [
      `${alg} token key`,
      manifest.token.filter((e) => e.alg === alg),
    ]),
    ['cookie key', manifest.cookie],
  ];
  return kinds.filter(([, entries]) => !entries.some((e) => e.activates <= now)).map(([name]) => name);
}

/** The key set's identity: the same material and times give the same digest on every instance. */
export function manifestDigest(manifest: Manifest): string {
  const canonical = {
    token: [...manifest.token]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((e) => [e.id, e.alg, e.created, e.activates]),
    cookie: [...manifest.cookie].sort((a, b) => a.id.localeCompare(b.id)).map((e) => [e.id, e.created, e.activates]),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(canonical)).digest('hex')}`;
}

// eIDAS levels of assurance: low < substantial < high.
export const LOA_LEVELS = ['low', 'substantial', 'high'] as const;
export type Loa = (typeof LOA_LEVELS)[number];

export const LOA_URI: Record<Loa, string> = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
};

export function isLoa(value: unknown): value is Loa {
  return typeof value === 'string' && (LOA_LEVELS as readonly string[]).includes(value);
}

export function loaRank(level: Loa): number {
  return LOA_LEVELS.indexOf(level);
}

/** True when `achieved` satisfies a request for `requested`. */
export function loaSatisfies(achieved: Loa, requested: Loa | undefined): boolean {
  return requested === undefined || loaRank(achieved) >= loaRank(requested);
}

/** Accepts our short names and the eIDAS URIs. */
export function parseLoa(value: string): Loa | undefined {
  if (isLoa(value)) return value;
  const entry = Object.entries(LOA_URI).find(([, uri]) => uri === value);
  return entry ? (entry[0] as Loa) : undefined;
}

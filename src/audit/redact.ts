// Personal codes (LV/EE/LT, with or without the LV hyphen) in free-form text would defeat the keyed
// hashing of subjects: callers must not put them in an audit detail or a log line, and this catches the
// mistake instead of storing one.
const CODE_LIKE = /(?<![0-9A-Za-z_-])(?:\d{6}-?\d{5})(?![0-9A-Za-z_-])/g;
/** an ETSI EN 319 412-1 semantics identifier (`PNOLV-010180-15097`, the ID token's `sub`): the code inside
 * is one too, though CODE_LIKE, which keeps clear of longer hyphenated ids, stops at the hyphen before it */
const SEMANTICS_IDENTIFIER = /PNO[A-Z]{2}-\d{6}-?\d{5}(?!\d)/g;

export const REDACTED = '[redacted]';

/** s with anything shaped like a personal code replaced. */
export function redactCodes(s: string): string {
  return s.replace(SEMANTICS_IDENTIFIER, REDACTED).replace(CODE_LIKE, REDACTED);
}

/** Detail as JSON with anything shaped like a personal code replaced. */
export function redactedDetailJson(detail: Record<string, unknown>): { json: string; redacted: boolean } {
  const json = JSON.stringify(detail);
  const clean = redactCodes(json);
  return { json: clean, redacted: clean !== json };
}

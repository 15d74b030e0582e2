// Personal codes (LV/EE/LT, with or without the LV hyphen) in free-form text would defeat the keyed
// hashing of subjects: callers must not put them in an audit detail or a log line, and this catches the
// mistake instead of storing one.
const CODE_LIKE = /(?<![0-9A-Za-z_-])(?:\d{6}-?\d{5})(?![0-9A-Za-z_-])/g;

export const REDACTED = '[redacted]';

/** s with anything shaped like a personal code replaced. */
export function redactCodes(s: string): string {
  return s.replace(CODE_LIKE, REDACTED);
}

/** Detail as JSON with anything shaped like a personal code replaced. */
export function redactedDetailJson(detail: Record<string, unknown>): { json: string; redacted: boolean } {
  const json = JSON.stringify(detail);
  const clean = json.replace(CODE_LIKE, REDACTED);
  return { json: clean, redacted: clean !== json };
}

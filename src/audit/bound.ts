// Bounds every value quoted into an audit entry. Detail often quotes what an upstream sent (a banklink
// VK_SERVICE, a SAML StatusCode), which an attacker controls: a long string is cut with a marker and the
// SHA-256 of the whole (redacted) value, so an investigator holding the original can match it; an entry can
// never exceed MAX_ENTRY_BYTES, so record() never refuses an event for its size.
import { createHash } from 'node:crypto';
import { redactCodes } from './redact.ts';

export const MAX_ENTRY_BYTES = 16 * 1024;
/** strings longer than this are cut to KEEP_CHARS plus a marker */
export const MAX_STRING = 1024;
const KEEP_CHARS = 256;
const MAX_ITEMS = 64;
const MAX_DEPTH = 6;

const digest = (s: string) => `sha256:${createHash('sha256').update(s, 'utf8').digest('base64url')}`;

export function boundString(s: string, max = MAX_STRING): string {
  if (s.length <= max) return s;
  // Redacted before it is cut: a personal code across the cut would keep up to 10 of its 11 digits and no
  // longer look like one to the redaction of the whole entry. The digest is of the redacted value too: a
  // known template around one personal code would otherwise let anyone test the few million valid codes.
  const clean = redactCodes(s);
  return `${clean.slice(0, Math.min(KEEP_CHARS, max))}…[truncated: ${s.length} chars, ${digest(clean)}]`;
}

/** A copy of value with long strings cut, long arrays and objects shortened and deep nesting flattened. */
export function boundValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return boundString(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH)
    return `[nested deeper than ${MAX_DEPTH}: ${digest(redactCodes(JSON.stringify(value) ?? ''))}]`;
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => boundValue(v, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`[${value.length - MAX_ITEMS} more items]`);
    return items;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (const key of keys.slice(0, MAX_ITEMS))
    out[boundString(key, 128)] = boundValue((value as Record<string, unknown>)[key], depth + 1);
  if (keys.length > MAX_ITEMS) out['…'] = `${keys.length - MAX_ITEMS} more keys`;
  return out;
}

/** What replaces a detail that is still too large after bounding its values. */
export function detailSummary(json: string): Record<string, unknown> {
  return { truncated: `detail of ${Buffer.byteLength(json)} bytes`, digest: digest(json) };
}

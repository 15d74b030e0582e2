// An event as the members of its entry (everything but index, time and MAC): personal data hashed or
// encrypted, and every quoted value bounded (./bound.ts) so no event is refused for its size.
import type { Logger } from '../logger.ts';
import { boundString, boundValue, detailSummary, MAX_ENTRY_BYTES, MAX_STRING } from './bound.ts';
import type { EntryMac } from './entry-mac.ts';
import { AUDIT_EVENTS, type AuditEvent } from './events.ts';
import { encodeEntryLine } from './format.ts';
import type { AuditorKey } from './keys.ts';
import { encryptClaims, hashSubject } from './privacy.ts';
import { redactedDetailJson } from './redact.ts';

export interface EncodeOptions {
  subjectKey: string;
  auditor?: AuditorKey | undefined;
  logger: Logger;
}

/** The detail with its values bounded; a small one (the usual case) is returned as it is. */
function boundedDetail(detail: Record<string, unknown>): Record<string, unknown> {
  // no value of a detail whose whole JSON is this short can be over a bound
  if ((JSON.stringify(detail)?.length ?? 0) <= MAX_STRING) return detail;
  return boundValue(detail) as Record<string, unknown>;
}

/** room for index, time, MAC and the line around the members */
const ENVELOPE_BYTES = 256;

export async function encodeEntryEvent(event: AuditEvent, options: EncodeOptions): Promise<string> {
  if (
    typeof event !== 'object' ||
    event === null ||
    typeof event.type !== 'string' ||
    !Object.hasOwn(AUDIT_EVENTS, event.type)
  ) {
    throw new TypeError(
      `audit event type ${JSON.stringify(boundString(String((event as AuditEvent | null)?.type), 64))} is not in the vocabulary`,
    );
  }
  for (const key of ['correlationId', 'clientId', 'providerId'] as const) {
    if (event[key] !== undefined && typeof event[key] !== 'string')
      throw new TypeError(`audit event ${key} must be a string`);
  }
  const short = (s: string | undefined) => (s === undefined ? undefined : boundString(s, 256));
  let sub: string | undefined;
  let claims: string | undefined;
  if (event.person) {
    if (typeof event.person.subject !== 'string' || event.person.subject.length === 0)
      throw new TypeError('audit event person.subject must be a non-empty string');
    sub = hashSubject(options.subjectKey, event.person.subject);
    if (event.person.claims && options.auditor)
      claims = await encryptClaims(boundValue(event.person.claims) as Record<string, unknown>, options.auditor);
  }
  let detailJson: string | undefined;
  if (event.detail !== undefined) {
    if (typeof event.detail !== 'object' || event.detail === null || Array.isArray(event.detail))
      throw new TypeError('audit event detail must be an object');
    const { json, redacted } = redactedDetailJson(boundedDetail(event.detail));
    if (redacted)
      options.logger.warn('personal-code-like value removed from audit detail', {
        type: event.type,
        correlation_id: short(event.correlationId),
      });
    detailJson = json;
  }
  const head = (c: string | undefined) =>
    JSON.stringify({
      type: event.type,
      code: AUDIT_EVENTS[event.type],
      corr: short(event.correlationId),
      client: short(event.clientId),
      provider: short(event.providerId),
      sub,
      claims: c,
    }).slice(1, -1);
  let fields = head(claims);
  const budget = MAX_ENTRY_BYTES - ENVELOPE_BYTES;
  if (detailJson !== undefined && Buffer.byteLength(fields) + Buffer.byteLength(detailJson) + 10 > budget) {
    // still too large after bounding each value (many of them): keep what it was and its digest
    options.logger.warn('audit detail too large; recorded as its size and digest', {
      type: event.type,
      bytes: Buffer.byteLength(detailJson),
    });
    detailJson = JSON.stringify(detailSummary(detailJson));
  }
  if (Buffer.byteLength(fields) + (detailJson?.length ?? 0) + 10 > budget) {
    // only claims can still be this large: they are left out, and the entry says so
    fields = head(undefined);
    detailJson = JSON.stringify({
      ...(detailJson ? (JSON.parse(detailJson) as object) : {}),
      claims_omitted: `encrypted claims of ${claims?.length ?? 0} bytes exceed the entry limit`,
    });
  }
  return detailJson === undefined ? fields : `${fields},"detail":${detailJson}`;
}

/** Entries (unsealed `{...}` bodies, in log order) sealed, each MAC chained to the leaf before it
 * (`previous` for the first: ./entry-mac.ts): their lines and their leaf hashes. */
export function sealedLines(mac: EntryMac, unsealed: string[], previous: Buffer): { text: string; leaves: Buffer[] } {
  const leaves: Buffer[] = [];
  let text = '';
  for (const body of unsealed) {
    const { line, leaf } = encodeEntryLine(mac.seal(body, leaves.at(-1) ?? previous));
    text += line;
    leaves.push(leaf);
  }
  return { text, leaves };
}

// On-disk format of the audit log directory (documented in ./README.md):
//   segment-<first index, 12 digits>.jsonl  one entry per line: {"leaf":"<hex>","entry":{...}}
//   checkpoints.jsonl                       one signed checkpoint per line
//   checkpoint-key.pub.pem                  public half of the checkpoint key (pin it elsewhere too)
//   torn/                                   torn tails moved aside by a repair
// The Merkle leaf is the exact bytes of "entry"; "leaf" repeats its leaf hash so an edited entry is
// located by position without waiting for the next checkpoint. "entry" ends with its MAC (./entry-mac.ts).
import { MAX_STRING } from './bound.ts';
import { MAC_SUFFIX_BYTES } from './entry-mac.ts';
import { AUDIT_EVENTS, type AuditEventType } from './events.ts';
import { leafHash } from './merkle.ts';

export const CHECKPOINTS_FILE = 'checkpoints.jsonl';
export const PUBLIC_KEY_FILE = 'checkpoint-key.pub.pem';
export const TORN_DIR = 'torn';
/** held by the one process that writes the log (./lock.ts) */
export const WRITER_LOCK_FILE = 'writer.lock';
export const SEGMENT_PATTERN = /^segment-(\d{12})\.jsonl$/;

export function segmentName(firstIndex: number): string {
  return `segment-${String(firstIndex).padStart(12, '0')}.jsonl`;
}

/** Where something is in the log directory; `line` is 1-based, `offset` the byte offset of the line. */
export interface Position {
  file: string;
  line: number;
  offset: number;
  /** leaf index of an entry */
  index?: number;
}

export function describePosition(position: Position): string {
  const what = position.index !== undefined ? `entry ${position.index} ` : '';
  // line 0: the file's last line, found from its end (a start does not count the lines of older segments)
  const line = position.line === 0 ? 'last line' : `line ${position.line}`;
  return `${what}(${position.file} ${line}, byte ${position.offset})`;
}

export class FormatError extends Error {
  override name = 'FormatError';
}

/** The fields of an entry, as stored (personal data already hashed or encrypted). */
export interface StoredEntry {
  i: number;
  /** UTC, millisecond precision */
  t: string;
  type: AuditEventType;
  code: string;
  corr?: string;
  client?: string;
  provider?: string;
  /** `hmac-sha256:<base64url>` of the subject */
  sub?: string;
  /** released claims as compact JWE to the auditor key */
  claims?: string;
  detail?: Record<string, unknown>;
  /** HMAC-SHA256 of the entry without this member, hex (see ./entry-mac.ts) */
  mac: string;
}

const UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OPTIONAL_STRINGS = ['corr', 'client', 'provider', 'sub', 'claims'] as const;
const KNOWN_FIELDS = new Set(['i', 't', 'type', 'code', 'detail', 'mac', ...OPTIONAL_STRINGS]);
const MAC_HEX = /^[0-9a-f]{64}$/;
/** The gateway keeps a detail as it is only while its JSON is at most MAX_STRING characters, else bounds it to
 * a few levels (./bound.ts): it never nests deeper than half that. A deeper one is not of the gateway's
 * writing, and printing it (JSON.stringify recurses) would overflow the reader's stack. */
const MAX_DETAIL_DEPTH = MAX_STRING / 2;

/** Whether value holds an object or array `limit` levels below it (walked without recursion). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= limit) return true;
    for (const item of Object.values(v)) pending.push([item, depth + 1]);
  }
  return false;
}

let lastValidTime = '';

export function isUtcMs(value: unknown): value is string {
  // entries of one group commit share their time: validate each distinct value once
  if (value === lastValidTime) return true;
  if (
    typeof value !== 'string' ||
    !UTC_MS.test(value) ||
    Number.isNaN(Date.parse(value)) ||
    new Date(value).toISOString() !== value
  )
    return false;
  lastValidTime = value;
  return true;
}

const PREFIX = Buffer.from('{"leaf":"');
const MIDDLE = Buffer.from('","entry":');
const HEX_LEN = 64;
const BODY_START = PREFIX.length + HEX_LEN + MIDDLE.length;

export function encodeEntryLine(body: string): { line: string; leaf: Buffer } {
  const leaf = leafHash(Buffer.from(body));
  return { line: `{"leaf":"${leaf.toString('hex')}","entry":${body}}\n`, leaf };
}

export interface DecodedEntry {
  entry: StoredEntry;
  leaf: Buffer;
  /** the exact leaf bytes (a view into the scanner's read buffer: copy it to keep it) */
  body: Buffer;
}

/** Decode one line (without its newline). Throws FormatError naming what is wrong. */
export function decodeEntryLine(line: Buffer): DecodedEntry {
  return decodeEntryAt(line, 0, line.length);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef');
const MAC_START = Buffer.from(',"mac":"');

/** buf[at, at + len) equals the bytes of `expected` (a JS loop: cheaper than a native call per line) */
function bytesAre(buf: Buffer, at: number, expected: Buffer): boolean {
  for (let k = 0; k < expected.length; k++) if (buf[at + k] !== expected[k]) return false;
  return true;
}

/** buf[at, at + 64) is the lower-case hex of hash */
function hexIs(buf: Buffer, at: number, hash: Buffer): boolean {
  for (let k = 0; k < hash.length; k++) {
    const b = hash[k]!;
    if (buf[at + 2 * k] !== HEX_DIGITS[b >> 4] || buf[at + 2 * k + 1] !== HEX_DIGITS[b & 15]) return false;
  }
  return true;
}

/** Decode the entry line buf[start, end). Verification runs this a million times: keep it lean. */
export function decodeEntryAt(buf: Buffer, start: number, end: number): DecodedEntry {
  if (
    end - start < BODY_START + 2 ||
    !bytesAre(buf, start, PREFIX) ||
    !bytesAre(buf, start + PREFIX.length + HEX_LEN, MIDDLE) ||
    buf[end - 1] !== 0x7d
  ) {
    throw new FormatError('not an audit entry line');
  }
  const body = buf.subarray(start + BODY_START, end - 1);
  const leaf = leafHash(body);
  if (!hexIs(buf, start + PREFIX.length, leaf))
    throw new FormatError('leaf hash does not match the entry (entry or hash altered)');
  if (
    body.length <= MAC_SUFFIX_BYTES ||
    !bytesAre(body, body.length - MAC_SUFFIX_BYTES, MAC_START) ||
    body[body.length - 2] !== 0x22
  ) {
    throw new FormatError('entry does not end with its MAC (not written by the gateway)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8', start + BODY_START, end - 1));
  } catch {
    throw new FormatError('entry is not valid JSON');
  }
  return { entry: checkEntry(parsed), leaf, body };
}

function checkEntry(value: unknown): StoredEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new FormatError('entry is not an object');
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry))
    if (!KNOWN_FIELDS.has(key)) throw new FormatError(`entry has an unknown field ${JSON.stringify(key)}`);
  if (!Number.isSafeInteger(entry.i) || (entry.i as number) < 0)
    throw new FormatError('entry index is missing or invalid');
  if (!isUtcMs(entry.t)) throw new FormatError('entry time is not a UTC time with milliseconds');
  if (typeof entry.type !== 'string' || !Object.hasOwn(AUDIT_EVENTS, entry.type))
    throw new FormatError('entry type is not in the audit vocabulary');
  if (entry.code !== AUDIT_EVENTS[entry.type as AuditEventType])
    throw new FormatError('entry code does not match its type');
  for (const key of OPTIONAL_STRINGS)
    if (entry[key] !== undefined && typeof entry[key] !== 'string')
      throw new FormatError(`entry field ${key} is not a string`);
  if (typeof entry.mac !== 'string' || !MAC_HEX.test(entry.mac))
    throw new FormatError('entry MAC is missing or malformed');
  if (
    entry.detail !== undefined &&
    (typeof entry.detail !== 'object' || entry.detail === null || Array.isArray(entry.detail))
  )
    throw new FormatError('entry detail is not an object');
  if (nestedDeeperThan(entry.detail, MAX_DETAIL_DEPTH))
    throw new FormatError(`entry detail is nested deeper than ${MAX_DETAIL_DEPTH} levels (not written by the gateway)`);
  return entry as unknown as StoredEntry;
}

/** Lines of a file: complete lines and the torn tail (bytes after the last newline). */
export function* lines(buf: Buffer): Generator<{ start: number; end: number; line: number }> {
  let start = 0;
  let n = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1) return;
    n++;
    yield { start, end: nl, line: n };
    start = nl + 1;
  }
}

/** Byte offset where the torn tail of buf begins, or undefined when buf ends with a newline (or is empty). */
export function tornTailOffset(buf: Buffer): number | undefined {
  if (buf.length === 0 || buf[buf.length - 1] === 0x0a) return undefined;
  return buf.lastIndexOf(0x0a) + 1;
}

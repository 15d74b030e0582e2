// retired.json: the gateway's signed word that the entries before `before` were retired (./retention.ts), so
// the log now begins there. Without it a log must begin at entry 0: whoever can write the directory but holds
// no key cannot remove old segments unseen. `before` is the size of a signed checkpoint carrying the tree's
// frontier (the tree grows on from there), `leaf` the leaf hash of entry before - 1, which the MAC of entry
// `before` is chained to. Signed with the checkpoint key under its own JWS typ (a checkpoint signature is never
// taken for a marker's), canonical like a checkpoint line; replaced atomically and durably.
import { closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, isUtcMs } from './format.ts';
import { type CheckpointSigner, type CheckpointVerifier, signDetached, verifyDetached } from './keys.ts';
import { RETIRED_FILE, RETIRED_TEMP_FILE, syncDirSync } from './segments.ts';

export { RETIRED_FILE } from './segments.ts';
export const RETIRED_TYP = 'vpm-audit-retired';

export interface RetiredPayload {
  /** the first entry kept: the size of a frontier checkpoint */
  before: number;
  /** hex leaf hash of entry before - 1 */
  leaf: string;
  /** UTC, millisecond precision: when the gateway retired them */
  time: string;
}

export interface RetiredMarker extends RetiredPayload {
  sig: string;
}

const payloadBytes = ({ before, leaf, time }: RetiredPayload): Buffer =>
  Buffer.from(JSON.stringify({ before, leaf, time }));

export const encodeRetiredMarker = ({ before, leaf, time, sig }: RetiredMarker): string =>
  `${JSON.stringify({ before, leaf, time, sig })}\n`;

export async function signRetiredMarker(payload: RetiredPayload, signer: CheckpointSigner): Promise<RetiredMarker> {
  return { ...payload, sig: await signDetached(payloadBytes(payload), RETIRED_TYP, signer) };
}

/** The marker in `text`, in its one canonical form (signature not checked). */
export function decodeRetiredMarker(text: string): RetiredMarker {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new FormatError('not valid JSON');
  }
  if (typeof fields !== 'object' || fields === null) throw new FormatError('not an object');
  const { before, leaf, time, sig } = fields;
  if (!Number.isSafeInteger(before) || (before as number) < 1) throw new FormatError('"before" is not an entry index');
  if (typeof leaf !== 'string' || !/^[0-9a-f]{64}$/.test(leaf)) throw new FormatError('"leaf" is not a hex hash');
  if (!isUtcMs(time)) throw new FormatError('"time" is not a UTC time with milliseconds');
  if (typeof sig !== 'string' || !/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/.test(sig))
    throw new FormatError('signature is missing or malformed');
  const marker: RetiredMarker = { before: before as number, leaf, time, sig };
  if (encodeRetiredMarker(marker) !== text) throw new FormatError('not in canonical form (bytes added or changed)');
  return marker;
}

/** What `dir` says was retired: nothing (no marker), the marker verified with `key`, or why it is refused. */
export async function readRetiredMarker(
  dir: string,
  key: CheckpointVerifier | undefined,
): Promise<{ marker?: RetiredMarker; problem?: string }> {
  let text: string;
  try {
    text = readFileSync(join(dir, RETIRED_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `cannot read it: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  try {
    const marker = decodeRetiredMarker(text);
    if (!key) return { problem: 'no checkpoint public key to verify its signature with' };
    await verifyDetached(marker.sig, payloadBytes(marker), RETIRED_TYP, key, 'an audit retirement marker');
    return { marker };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

/** Replaces the marker durably: a temporary file written and synced, renamed over it, the directory synced. A
 * crash leaves the old marker or the new one, never part of one. */
export function writeRetiredMarker(dir: string, marker: RetiredMarker): void {
  const temp = join(dir, RETIRED_TEMP_FILE);
  // never through a link planted in its place
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    const bytes = Buffer.from(encodeRetiredMarker(marker));
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, RETIRED_FILE));
  syncDirSync(dir);
}

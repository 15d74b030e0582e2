// Checkpoint lines of the audit log directory (checkpoints.jsonl, documented in ./README.md): what a
// checkpoint signs and the one canonical byte form a line must have, so a line with bytes added or changed
// is refused before its signature is even checked.
import { FormatError, isUtcMs } from './format.ts';
import type { CompactTree } from './merkle.ts';

/** the JWS `typ` of a checkpoint signature (./keys.ts) */
export const CHECKPOINT_TYP = 'vpm-audit-checkpoint';

/** What a checkpoint signs. */
export interface CheckpointPayload {
  /** sequence number of the checkpoint, from 0: a removed or inserted checkpoint leaves a gap */
  n: number;
  size: number;
  /** RFC 9162 root hash, hex */
  root: string;
  /** UTC, millisecond precision */
  time: string;
  /** only on a checkpoint at a segment's start: the roots of the perfect subtrees of the tree of `size`
   * leaves, largest first (hex), so a start can grow the tree from there without reading older segments */
  frontier?: string[];
}

export interface Checkpoint extends CheckpointPayload {
  /** detached compact JWS over checkpointPayloadBytes(): `<protected>..<signature>` */
  sig: string;
}

/** What the checkpoint of `tree` numbered `n` at `time` (ms) signs; `withFrontier` at a segment's start. */
export function treeCheckpoint(n: number, tree: CompactTree, time: number, withFrontier: boolean): CheckpointPayload {
  const payload: CheckpointPayload = {
    n,
    size: tree.size,
    root: tree.root().toString('hex'),
    time: new Date(time).toISOString(),
  };
  if (withFrontier) payload.frontier = tree.frontier().map((node) => node.toString('hex'));
  return payload;
}

export function checkpointPayloadBytes({ n, size, root, time, frontier }: CheckpointPayload): Buffer {
  return Buffer.from(JSON.stringify(frontier ? { n, size, root, time, frontier } : { n, size, root, time }));
}

export function encodeCheckpointLine({ n, size, root, time, frontier, sig }: Checkpoint): string {
  return `${JSON.stringify(frontier ? { n, size, root, time, frontier, sig } : { n, size, root, time, sig })}\n`;
}

/** how many perfect subtrees a tree of `size` leaves is made of: one per set bit */
export function frontierLength(size: number): number {
  let count = 0;
  for (let rest = size; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

const HASH_HEX = /^[0-9a-f]{64}$/;

function checkFrontier(frontier: unknown, size: number): string[] {
  if (!Array.isArray(frontier) || !frontier.every((h) => typeof h === 'string' && HASH_HEX.test(h)))
    throw new FormatError('checkpoint frontier is not a list of hex SHA-256 hashes');
  if (frontier.length !== frontierLength(size))
    throw new FormatError(
      `checkpoint frontier holds ${frontier.length} hashes where a tree of ${size} has ${frontierLength(size)}`,
    );
  return frontier as string[];
}

/** Parse a checkpoint line (without newline); it must be byte-for-byte canonical. Signature not checked. */
export function decodeCheckpointLine(line: string): Checkpoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new FormatError('checkpoint is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new FormatError('checkpoint is not an object');
  const fields = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(fields.n) || (fields.n as number) < 0)
    throw new FormatError('checkpoint number is invalid');
  if (!Number.isSafeInteger(fields.size) || (fields.size as number) < 0)
    throw new FormatError('checkpoint size is invalid');
  if (typeof fields.root !== 'string' || !HASH_HEX.test(fields.root))
    throw new FormatError('checkpoint root is not a hex SHA-256 hash');
  if (!isUtcMs(fields.time)) throw new FormatError('checkpoint time is not a UTC time with milliseconds');
  if (typeof fields.sig !== 'string' || !/^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$/.test(fields.sig))
    throw new FormatError('checkpoint signature is missing or malformed');
  const checkpoint: Checkpoint = {
    n: fields.n as number,
    size: fields.size as number,
    root: fields.root,
    time: fields.time,
    sig: fields.sig,
  };
  if (fields.frontier !== undefined) checkpoint.frontier = checkFrontier(fields.frontier, checkpoint.size);
  if (encodeCheckpointLine(checkpoint) !== `${line}\n`)
    throw new FormatError('checkpoint is not in canonical form (bytes added or changed)');
  return checkpoint;
}

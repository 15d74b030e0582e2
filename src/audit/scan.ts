// Reads an audit log directory once, front to back, checking everything it can: each entry's format
// and leaf hash, the index sequence, non-decreasing times, the Merkle root at every checkpoint, each
// checkpoint's form, number, signature and time, and torn tails. `audit verify`, the writer's start-up
// check, `audit query` and `audit prove` all use this one pass.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CHECKPOINTS_FILE,
  decodeCheckpointLine,
  decodeEntryAt,
  describePosition,
  type FormatError,
  lines,
  PUBLIC_KEY_FILE,
  tornTailOffset,
  type Checkpoint,
  type DecodedEntry,
  type Position,
} from './format.ts';
import { loadCheckpointPublicKey, verifyCheckpointSignature, type CheckpointVerifier } from './keys.ts';
import type { EntryMac } from './entry-mac.ts';
import { CompactTree, leafHash, LeafHashes } from './merkle.ts';
import { listSegments, readRegularFile, SegmentReader } from './segments.ts';

export { AuditDirError, listSegments } from './segments.ts';

export type ProblemKind = 'entry' | 'segment' | 'checkpoint' | 'torn' | 'key';

export interface Problem {
  kind: ProblemKind;
  position: Position;
  message: string;
}

export function describeProblem(p: Problem): string {
  return `${p.kind === 'torn' ? 'torn tail at ' : ''}${p.kind === 'checkpoint' ? 'checkpoint ' : ''}${describePosition(p.position)}: ${p.message}`;
}

export interface TornTail {
  file: string;
  /** byte offset where the torn bytes start */
  offset: number;
  length: number;
  line: number;
}

export interface LocatedCheckpoint {
  checkpoint: Checkpoint;
  position: Position;
}

export interface ScanOptions {
  /** pinned checkpoint key; without one the key stored in the directory is used (with a warning) */
  key?: CheckpointVerifier | undefined;
  /** which checkpoint signatures to check: every one (verify) or the latest (writer start-up) */
  signatures?: 'all' | 'latest';
  /** collect every leaf hash (for proofs) */
  keepLeaves?: boolean;
  /** called for every well-formed entry, in order */
  onEntry?: (entry: DecodedEntry, position: Position) => void;
  maxProblems?: number;
  /** the entry MAC key: entries after the latest checkpoint (which no signature covers yet) are
   * authenticated by it; without it they are counted as unauthenticated (`tail`) */
  mac?: EntryMac | undefined;
}

export interface ScanResult {
  dir: string;
  entries: number;
  tree: CompactTree;
  leaves?: LeafHashes;
  checkpoints: LocatedCheckpoint[];
  problems: Problem[];
  /** problems beyond maxProblems, counted only */
  moreProblems: number;
  torn: TornTail[];
  warnings: string[];
  keyPinned: boolean;
  key?: CheckpointVerifier;
  lastTime?: string;
  lastSegment?: { name: string; first: number; bytes: number };
  /** entries after the latest checkpoint: covered by no signature */
  tail: number;
  /** whether those entries' MACs were checked (a MAC key was given) */
  tailAuthenticated: boolean;
}

export async function scanLog(dir: string, options: ScanOptions = {}): Promise<ScanResult> {
  const maxProblems = options.maxProblems ?? 50;
  const problems: Problem[] = [];
  const checkpointProblems: Problem[] = [];
  let moreProblems = 0;
  const add = (list: Problem[], p: Problem) => {
    if (problems.length + checkpointProblems.length < maxProblems) list.push(p);
    else moreProblems++;
  };
  const warnings: string[] = [];
  const torn: TornTail[] = [];
  const { segments, others } = listSegments(dir);
  if (others.length) warnings.push(`files that are not part of the log: ${others.join(', ')}`);

  // the key: pinned by the caller, or the copy kept in the directory (which whoever edits the log can replace)
  let key = options.key;
  const keyPinned = key !== undefined;
  if (!key && existsSync(join(dir, PUBLIC_KEY_FILE))) {
    key = await loadCheckpointPublicKey(join(dir, PUBLIC_KEY_FILE));
    warnings.push(
      `checkpoint key ${key.kid} taken from the log directory; pin it with --public-key to detect a re-signed log`,
    );
  }

  // checkpoints
  const checkpoints: LocatedCheckpoint[] = [];
  let cpBuf: Buffer | undefined;
  try {
    cpBuf = readRegularFile(join(dir, CHECKPOINTS_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (cpBuf) {
    const cpLines = [...lines(cpBuf)];
    let prev: Checkpoint | undefined;
    for (const l of cpLines) {
      const position: Position = { file: CHECKPOINTS_FILE, line: l.line, offset: l.start };
      let cp: Checkpoint;
      try {
        cp = decodeCheckpointLine(cpBuf.toString('utf8', l.start, l.end));
      } catch (err) {
        add(checkpointProblems, { kind: 'checkpoint', position, message: (err as FormatError).message });
        continue;
      }
      if (options.signatures !== 'latest' || l.line === cpLines.length) {
        if (!key)
          add(checkpointProblems, {
            kind: 'key',
            position,
            message: 'no checkpoint public key to verify the signature with',
          });
        else {
          try {
            await verifyCheckpointSignature(cp, key);
          } catch (err) {
            add(checkpointProblems, { kind: 'checkpoint', position, message: (err as Error).message });
            continue;
          }
        }
      }
      const expectedN = prev ? prev.n + 1 : 0;
      if (cp.n !== expectedN)
        add(checkpointProblems, {
          kind: 'checkpoint',
          position,
          message: `checkpoint number ${cp.n} where ${expectedN} was expected (checkpoints removed, inserted or reordered)`,
        });
      if (prev && cp.size < prev.size)
        add(checkpointProblems, {
          kind: 'checkpoint',
          position,
          message: `tree size ${cp.size} is smaller than the previous checkpoint's ${prev.size}`,
        });
      if (prev && cp.time < prev.time)
        add(checkpointProblems, {
          kind: 'checkpoint',
          position,
          message: `time ${cp.time} is earlier than the previous checkpoint's ${prev.time}`,
        });
      prev = cp;
      checkpoints.push({ checkpoint: cp, position });
    }
    const tornAt = tornTailOffset(cpBuf);
    if (tornAt !== undefined) {
      const t: TornTail = {
        file: CHECKPOINTS_FILE,
        offset: tornAt,
        length: cpBuf.length - tornAt,
        line: cpLines.length + 1,
      };
      torn.push(t);
      add(checkpointProblems, {
        kind: 'torn',
        position: { file: CHECKPOINTS_FILE, line: t.line, offset: t.offset },
        message: `${t.length} bytes of an incomplete checkpoint after the last complete line`,
      });
    }
  }
  // checkpoints to compare against the tree, by size (several may share a size)
  const bySize = new Map<number, LocatedCheckpoint[]>();
  for (const c of checkpoints) bySize.set(c.checkpoint.size, [...(bySize.get(c.checkpoint.size) ?? []), c]);

  // entries
  const tree = new CompactTree();
  const leaves = options.keepLeaves ? new LeafHashes(1 << 16) : undefined;
  let expected = 0;
  let lastTime: string | undefined;
  let lastSegment: ScanResult['lastSegment'];
  // the latest checkpoint's signature covers everything before it; its MAC authenticates every later entry
  const macFrom = checkpoints.at(-1)?.checkpoint.size ?? 0;
  const checkRoots = () => {
    const due = bySize.get(tree.size);
    if (!due) return;
    const root = tree.root().toString('hex');
    for (const c of due) {
      if (c.checkpoint.root !== root)
        add(problems, {
          kind: 'checkpoint',
          position: c.position,
          message: `root does not match entries 0..${tree.size - 1} (an entry up to index ${tree.size - 1} was altered, removed or inserted)`,
        });
      if (lastTime !== undefined && c.checkpoint.time < lastTime)
        add(problems, {
          kind: 'checkpoint',
          position: c.position,
          message: `time ${c.checkpoint.time} is earlier than its last entry's ${lastTime}`,
        });
    }
  };
  checkRoots(); // checkpoints of the empty tree
  const reader = new SegmentReader();
  segments.forEach((seg, si) => {
    if (seg.first !== tree.size) {
      add(problems, {
        kind: 'segment',
        position: { file: seg.name, line: 1, offset: 0, index: tree.size },
        message: `segment starts at entry ${seg.first} but the previous segments end before entry ${tree.size} (segment removed, renamed or inserted)`,
      });
    }
    const buf = reader.read(join(dir, seg.name));
    let lineCount = 0;
    for (let start = 0, nl = buf.indexOf(0x0a); nl !== -1; start = nl + 1, nl = buf.indexOf(0x0a, start)) {
      lineCount++;
      const position: Position = { file: seg.name, line: lineCount, offset: start, index: expected };
      let decoded: DecodedEntry | undefined;
      try {
        decoded = decodeEntryAt(buf, start, nl);
      } catch (err) {
        add(problems, { kind: 'entry', position, message: (err as FormatError).message });
      }
      if (decoded) {
        const e = decoded.entry;
        if (e.i !== expected) {
          add(problems, {
            kind: 'entry',
            position,
            message: `entry carries index ${e.i} where ${expected} was expected (entries removed, inserted or reordered)`,
          });
          expected = e.i;
        }
        if (lastTime !== undefined && e.t < lastTime)
          add(problems, {
            kind: 'entry',
            position,
            message: `time ${e.t} is earlier than the previous entry's ${lastTime}`,
          });
        lastTime = e.t;
        if (options.mac && expected >= macFrom && !options.mac.check(decoded.body)) {
          add(problems, {
            kind: 'entry',
            position,
            message: 'entry MAC does not verify (entry forged or altered by someone without the MAC key)',
          });
        }
        options.onEntry?.(decoded, position);
      }
      const leaf = decoded ? decoded.leaf : leafHash(buf.subarray(start, nl));
      tree.push(leaf);
      leaves?.push(leaf);
      expected++;
      if (bySize.has(tree.size)) checkRoots();
    }
    const tornAt = tornTailOffset(buf);
    if (tornAt !== undefined) {
      const line = lineCount + 1;
      if (si === segments.length - 1) {
        const t: TornTail = { file: seg.name, offset: tornAt, length: buf.length - tornAt, line };
        torn.push(t);
        add(problems, {
          kind: 'torn',
          position: { file: seg.name, line, offset: tornAt, index: expected },
          message: `${t.length} bytes of an incomplete entry after the last complete line`,
        });
      } else {
        add(problems, {
          kind: 'entry',
          position: { file: seg.name, line, offset: tornAt, index: expected },
          message: 'segment ends inside an entry (bytes removed, or a newline deleted)',
        });
      }
    }
    lastSegment = { name: seg.name, first: seg.first, bytes: buf.length };
  });
  for (const c of checkpoints) {
    if (c.checkpoint.size > tree.size)
      add(problems, {
        kind: 'checkpoint',
        position: c.position,
        message: `checkpoint covers ${c.checkpoint.size} entries but the log holds ${tree.size} (entries removed or truncated)`,
      });
  }
  if (checkpoints.length === 0 && tree.size > 0)
    warnings.push('no checkpoint yet: the entries are not yet covered by a signature');
  const last = checkpoints.at(-1)?.checkpoint;
  if (last && last.size < tree.size)
    warnings.push(`${tree.size - last.size} entries after the latest checkpoint are not yet covered by a signature`);

  const tail = Math.max(0, tree.size - (last?.size ?? 0));
  const result: ScanResult = {
    dir,
    entries: tree.size,
    tree,
    checkpoints,
    problems: [...problems, ...checkpointProblems],
    moreProblems,
    torn,
    warnings,
    keyPinned,
    tail,
    tailAuthenticated: options.mac !== undefined,
  };
  if (leaves) result.leaves = leaves;
  if (key) result.key = key;
  if (lastTime) result.lastTime = lastTime;
  if (lastSegment) result.lastSegment = lastSegment;
  return result;
}

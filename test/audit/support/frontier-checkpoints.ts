// A log of several segments whose checkpoints.jsonl holds many checkpoints before the latest segment's frontier
// checkpoint (the one a start grows the tree from), as a log checkpointed every few seconds for a long time does:
// a real segmented log whose checkpoints before that one are each repeated, renumbered and signed again with the
// log's key. Each test alters a fresh copy of its lines.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, decodeCheckpointLine, encodeCheckpointLine } from '../../../src/audit/checkpoint-format.ts';
import { witnessPath } from '../../../src/audit/config.ts';
import { CHECKPOINTS_FILE } from '../../../src/audit/format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../../src/audit/keys.ts';
import type { TestLog } from '../helpers.ts';
import { segmentedLog, segmentsOf } from './segmented-log.ts';

export interface FrontierCheckpoints {
  t: TestLog;
  /** the lines of checkpoints.jsonl as built, each with its newline */
  lines: string[];
  /** 1-based line of the latest segment's frontier checkpoint */
  frontierLine: number;
  /** puts the log back as built (segments, checkpoints, witness) */
  restore(): void;
  /** writes `lines` (each with its newline) as checkpoints.jsonl */
  write(lines: string[]): void;
  /** `checkpoint` signed with the log's key, encoded */
  sign(checkpoint: Omit<Checkpoint, 'sig'>): Promise<string>;
  /** the byte offset of line `line` (1-based) of `lines` */
  offsetOf(line: number, lines?: string[]): number;
}

export async function frontierCheckpoints(before: number): Promise<FrontierCheckpoints> {
  const t = await segmentedLog();
  const path = join(t.dir, CHECKPOINTS_FILE);
  const real = readFileSync(path, 'utf8').trimEnd().split('\n').map(decodeCheckpointLine);
  const latestFirst = Number(/segment-(\d+)/.exec(segmentsOf(t.dir).at(-1)!)![1]);
  const at = real.findLastIndex((c) => c.size === latestFirst && c.frontier);
  const plain = real.slice(0, at).filter((c) => !c.frontier).length;
  const signer = await loadOrCreateCheckpointKey(t.config.signing_key, t.config.signing_alg);
  const sign = async (checkpoint: Omit<Checkpoint, 'sig'> & { sig?: string }) => {
    const { sig: _, ...payload } = checkpoint;
    return encodeCheckpointLine(await signCheckpoint(payload, signer));
  };
  const lines: string[] = [];
  for (const [k, checkpoint] of real.entries()) {
    // the checkpoints without a frontier before the latest segment's, repeated: `before` lines in all before it
    const times = k < at && !checkpoint.frontier ? Math.ceil((before - (at - plain)) / plain) : 1;
    for (let r = 0; r < times; r++) lines.push(await sign({ ...checkpoint, n: lines.length }));
  }
  const isFrontier = (l: string) => {
    const checkpoint = decodeCheckpointLine(l.trimEnd());
    return checkpoint.size === latestFirst && checkpoint.frontier !== undefined;
  };
  const frontierLine = lines.findLastIndex(isFrontier) + 1;
  const write = (all: string[]) => writeFileSync(path, all.join(''));
  write(lines);
  writeFileSync(witnessPath(t.config), lines.at(-1)!);
  const pristine = `${t.root}/pristine`;
  cpSync(t.dir, pristine, { recursive: true });
  const witness = readFileSync(witnessPath(t.config));
  return {
    t,
    lines,
    frontierLine,
    write,
    sign,
    restore() {
      rmSync(t.dir, { recursive: true, force: true });
      cpSync(pristine, t.dir, { recursive: true });
      writeFileSync(witnessPath(t.config), witness);
      t.logger.lines.length = 0;
    },
    offsetOf: (line, all = lines) => all.slice(0, line - 1).reduce((sum, l) => sum + Buffer.byteLength(l), 0),
  };
}

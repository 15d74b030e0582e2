// What a scan of the audit log reports: each problem with its position (file, line, byte, entry index),
// torn tails (an interrupted last write), and the checkpoints it read.
import { describePosition, type Position } from './format.ts';
import type { Checkpoint } from './checkpoint-format.ts';

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

/**
 * The problems of one scan, in two lists (the entries' first, as they are reported), at most `max` of
 * them kept in all; the rest are only counted.
 */
export class ProblemList {
  readonly entries: Problem[] = [];
  readonly checkpoints: Problem[] = [];
  /** problems beyond `max`, counted only */
  more = 0;

  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  private add(list: Problem[], problem: Problem): void {
    if (this.entries.length + this.checkpoints.length < this.max) list.push(problem);
    else this.more++;
  }

  entry(kind: ProblemKind, position: Position, message: string): void {
    this.add(this.entries, { kind, position, message });
  }

  checkpoint(kind: ProblemKind, position: Position, message: string): void {
    this.add(this.checkpoints, { kind, position, message });
  }

  all(): Problem[] {
    return [...this.entries, ...this.checkpoints];
  }
}

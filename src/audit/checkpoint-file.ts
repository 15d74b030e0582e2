// checkpoints.jsonl read line by line in bounded chunks: it holds a checkpoint for every checkpoint interval
// the log ever had entries in (about 350 bytes each, 2 GiB after a year at one every 5 s), so no reader may
// hold it whole or keep every checkpoint.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { type Checkpoint, decodeCheckpointLine } from './checkpoint-format.ts';
import { CHECKPOINTS_FILE } from './format.ts';
import { AuditDirError } from './segments.ts';

const CHUNK = 64 * 1024;
/** a canonical checkpoint line is about 350 bytes (an ES256 signature a little more): a longer line is not one
 * the gateway wrote, and only its length is kept */
export const MAX_CHECKPOINT_LINE = 4096;

export interface CheckpointLine {
  /** 1-based */
  line: number;
  /** byte offset of the line */
  start: number;
  /** the line without its newline; undefined for a line longer than MAX_CHECKPOINT_LINE */
  text: string | undefined;
  length: number;
}

/** Where a read begins: a line's byte offset and the number it is given (1-based). */
export interface LineStart {
  offset: number;
  line: number;
}

const FILE_START: LineStart = { offset: 0, line: 1 };

/** The checkpoints file as it was when opened: later appends (a running writer) are not read. */
export class CheckpointFile {
  readonly path: string;
  readonly size: number;
  /** set once lines() has run: where the bytes after the last newline begin, if there are any */
  tornAt: number | undefined;
  private readonly fd: number;
  private readonly from: LineStart;

  private constructor(path: string, fd: number, size: number, from: LineStart) {
    this.path = path;
    this.fd = fd;
    this.size = size;
    this.from = from;
  }

  /** undefined when the log has no checkpoints file; `upTo` reads no further than that many bytes, `from` begins
   * lines() at a line other than the first */
  static open(dir: string, upTo?: number, from = FILE_START): CheckpointFile | undefined {
    const path = join(dir, CHECKPOINTS_FILE);
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO in its place would otherwise wait for a writer for ever
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new AuditDirError(`${path} is not a regular file`);
    }
    return new CheckpointFile(path, fd, Math.min(stat.size, upTo ?? stat.size), from);
  }

  /** Reads into `buf` from byte `position` (no further than the size opened); how many bytes were read. */
  readAt(buf: Buffer, position: number): number {
    return position >= this.size ? 0 : readSync(this.fd, buf, 0, Math.min(buf.length, this.size - position), position);
  }

  /** Closes the file when lines() is not read to its end. */
  close(): void {
    closeSync(this.fd);
  }

  /** Every complete line in order; closes the file when done (or when the caller stops early). */
  *lines(): Generator<CheckpointLine> {
    const buf = Buffer.allocUnsafe(CHUNK);
    let carry: Buffer[] = [];
    let carried = 0;
    let lineStart = this.from.offset;
    let line = this.from.line - 1;
    let offset = this.from.offset;
    try {
      while (offset < this.size) {
        const n = readSync(this.fd, buf, 0, Math.min(CHUNK, this.size - offset), offset);
        if (n === 0) break; // shrank while reading: what we have is what there is
        const chunk = buf.subarray(0, n);
        let from = 0;
        for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
          const length = carried + nl - from;
          const text =
            length > MAX_CHECKPOINT_LINE ? undefined : Buffer.concat([...carry, chunk.subarray(from, nl)]).toString();
          yield { line: ++line, start: lineStart, text, length };
          carry = [];
          carried = 0;
          from = nl + 1;
          lineStart = offset + from;
        }
        if (carried + n - from <= MAX_CHECKPOINT_LINE) carry.push(Buffer.from(chunk.subarray(from)));
        carried += n - from;
        offset += n;
      }
      this.tornAt = carried > 0 ? lineStart : undefined;
    } finally {
      closeSync(this.fd);
    }
  }
}

/** The checkpoint of a line; throws, saying why, when the line is not one. */
export function decodeLine(line: CheckpointLine): Checkpoint {
  if (line.text === undefined)
    throw new Error(`line of ${line.length} bytes, longer than any checkpoint (${CHECKPOINTS_FILE} altered)`);
  return decodeCheckpointLine(line.text);
}

/** The checkpoint of a line, or undefined when the line is not one (a scan names those). */
export function checkpointOf(line: CheckpointLine): Checkpoint | undefined {
  try {
    return line.text === undefined ? undefined : decodeCheckpointLine(line.text);
  } catch {
    return undefined;
  }
}

/** The first checkpoint of the log's file that `match` accepts, read through once. */
export function findCheckpointInFile(dir: string, match: (c: Checkpoint) => boolean): Checkpoint | undefined {
  const file = CheckpointFile.open(dir);
  if (!file) return undefined;
  for (const line of file.lines()) {
    const checkpoint = checkpointOf(line);
    if (checkpoint && match(checkpoint)) return checkpoint;
  }
  return undefined;
}

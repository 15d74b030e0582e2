// A torn tail (the bytes after the last complete line of a segment or of checkpoints.jsonl, or from a line of
// zeroed bytes past the latest checkpoint on, left by a write a crash interrupted) moved aside by a repair:
// copied into torn/, never deleted, then cut off the file.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from './events.ts';
import { TORN_DIR } from './format.ts';
import type { TornTail } from './scan.ts';
import { syncDirSync } from './segments.ts';

/** A repaired torn tail, as recorded in the log. */
export interface RepairedTail extends TornTail {
  digest: string;
  movedTo: string;
}

/** Bytes copied at a time: a torn tail may be as long as the file (checkpoints.jsonl is never rolled over),
 * so it is never held whole. */
const COPY_CHUNK = 1 << 20;

interface Copy {
  movedTo: string;
  length: number;
  digest: string;
}

/** Copies `length` bytes of `fd` from `offset` into the new file `path` (synced), chunk by chunk. */
function copyInto(path: string, fd: number, offset: number, length: number): Omit<Copy, 'movedTo'> {
  const out = openSync(path, 'wx', 0o600);
  try {
    const digest = createHash('sha256');
    const chunk = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(1, length)));
    let done = 0;
    while (done < length) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, length - done), offset + done);
      if (n === 0) break; // shorter than it was: what there is is the tail
      for (let written = 0; written < n; ) written += writeSync(out, chunk, written, n - written);
      digest.update(chunk.subarray(0, n));
      done += n;
    }
    fsyncSync(out);
    return { length: done, digest: `sha256:${digest.digest('base64url')}` };
  } finally {
    closeSync(out);
  }
}

/** Copies the tail to a new file torn/<stem>.torn, or torn/<stem>.<k>.torn when that name is taken (a repair
 * that did not get to cut the file, or a tail torn again at the same offset): no copy is ever replaced. */
function keepAside(dir: string, stem: string, fd: number, offset: number, length: number): Copy {
  for (let k = 1; ; k++) {
    const movedTo = join(TORN_DIR, k === 1 ? `${stem}.torn` : `${stem}.${k}.torn`);
    try {
      return { movedTo, ...copyInto(join(dir, movedTo), fd, offset, length) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Move a torn tail aside into torn/ (never deleted) and cut the file back to where the tail begins. */
export function moveTornTailAside(dir: string, torn: TornTail): RepairedTail {
  const path = join(dir, torn.file);
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    // the tail the scan verified runs to the end of the file: a file cut or grown since is no longer the file
    // verified (cutting a shorter one at the offset would even extend it with zeros)
    if (size !== torn.offset + torn.length)
      throw new AuditUnavailableError(
        `${torn.file} changed since it was verified (${size} bytes, the torn tail was ${torn.length} bytes from offset ${torn.offset}): verify again`,
      );
    mkdirSync(join(dir, TORN_DIR), { recursive: true, mode: 0o700 });
    const copy = keepAside(dir, `${torn.file}.${torn.offset}`, fd, torn.offset, size - torn.offset);
    // the copy, the entries that name it (in torn/, and torn/ in dir) and the file as it is are durable
    // before the cut: a power cut after it then cannot leave the file cut and the copy gone
    syncDirSync(join(dir, TORN_DIR));
    syncDirSync(dir);
    fsyncSync(fd);
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
    return { ...torn, length: copy.length, digest: copy.digest, movedTo: copy.movedTo };
  } finally {
    closeSync(fd);
  }
}

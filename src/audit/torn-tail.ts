// A torn tail (the bytes after the last complete line of a segment or of checkpoints.jsonl, left by a write
// a crash interrupted) moved aside by a repair: copied into torn/, never deleted, then cut off the file.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { TORN_DIR } from './format.ts';
import { writeNewFileSync } from './keys.ts';
import type { TornTail } from './scan.ts';
import { syncDirSync } from './segments.ts';

/** A repaired torn tail, as recorded in the log. */
export interface RepairedTail extends TornTail {
  digest: string;
  movedTo: string;
}

/** Writes `bytes` to a new file torn/<stem>.torn, or torn/<stem>.<k>.torn when that name is taken (a repair
 * that did not get to cut the file, or a tail torn again at the same offset): no copy is ever replaced. */
function keepAside(dir: string, stem: string, bytes: Buffer): string {
  for (let k = 1; ; k++) {
    const movedTo = join(TORN_DIR, k === 1 ? `${stem}.torn` : `${stem}.${k}.torn`);
    try {
      writeNewFileSync(join(dir, movedTo), bytes, 0o600);
      return movedTo;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** Move a torn tail aside into torn/ (never deleted) and cut the file back to its last complete line. */
export function moveTornTailAside(dir: string, torn: TornTail): RepairedTail {
  const path = join(dir, torn.file);
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const bytes = Buffer.alloc(size - torn.offset);
    readSync(fd, bytes, 0, bytes.length, torn.offset);
    mkdirSync(join(dir, TORN_DIR), { recursive: true, mode: 0o700 });
    const movedTo = keepAside(dir, `${torn.file}.${torn.offset}`, bytes);
    // the copy, the entries that name it (in torn/, and torn/ in dir) and the file as it is are durable
    // before the cut: a power cut after it then cannot leave the file cut and the copy gone
    syncDirSync(join(dir, TORN_DIR));
    syncDirSync(dir);
    fsyncSync(fd);
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
    return {
      ...torn,
      length: bytes.length,
      digest: `sha256:${createHash('sha256').update(bytes).digest('base64url')}`,
      movedTo,
    };
  } finally {
    closeSync(fd);
  }
}

// The files of an audit log directory: segments in index order, and a reader that reuses one buffer.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readdirSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { CHECKPOINTS_FILE, PUBLIC_KEY_FILE, SEGMENT_PATTERN, TORN_DIR, WRITER_LOCK_FILE } from './format.ts';

/** the signed marker of retired segments (./retired-marker.ts), and its next version while it is written */
export const RETIRED_FILE = 'retired.json';
export const RETIRED_TEMP_FILE = `${RETIRED_FILE}.tmp`;

const LOG_FILES = new Set([
  CHECKPOINTS_FILE,
  PUBLIC_KEY_FILE,
  TORN_DIR,
  WRITER_LOCK_FILE,
  RETIRED_FILE,
  RETIRED_TEMP_FILE,
]);

export class AuditDirError extends Error {
  override name = 'AuditDirError';
}

export interface Segment {
  name: string;
  first: number;
}

export function listSegments(dir: string): { segments: Segment[]; others: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new AuditDirError(`cannot read audit directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const segments: Segment[] = [];
  const others: string[] = [];
  for (const name of names.sort()) {
    const m = SEGMENT_PATTERN.exec(name);
    if (m) segments.push({ name, first: Number(m[1]) });
    else if (!LOG_FILES.has(name) && !name.startsWith(`${WRITER_LOCK_FILE}.`)) others.push(name);
  }
  return { segments, others };
}

/** the writer starts a new segment before a write that would cross segment_max_bytes (at most 2 GiB), so
 * none it writes is larger (a group commit alone, at most 8192 entries of 16 KiB, is far smaller) */
const MAX_SEGMENT_BYTES = 2 ** 31;
const READ_CHUNK = 2 ** 30;

/**
 * Segments are read into one reused buffer: a fresh 64 MiB buffer per segment costs more in page
 * faults than the hashing. The returned view is valid until the next call.
 */
export class SegmentReader {
  private buf = Buffer.alloc(0);

  read(path: string): Buffer {
    return withSegmentFile(path, (fd, size) => {
      if (size > this.buf.length) this.buf = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        // Node reads at most 2 GiB - 1 bytes per call: a segment of segment_max_bytes' upper bound takes two
        const n = readSync(fd, this.buf, done, Math.min(size - done, READ_CHUNK), done);
        if (n === 0) break; // shrank while reading: what we have is what there is
        done += n;
      }
      return this.buf.subarray(0, done);
    });
  }
}

/** Runs `use` on the open segment file at `path`, once it is known to be a regular file of a size the gateway
 * writes (else AuditDirError); also the whole check of a segment a start does not read. */
export function withSegmentFile<T>(path: string, use: (fd: number, size: number) => T): T {
  // O_NONBLOCK: opening a FIFO put in place of a segment would otherwise wait for a writer for ever;
  // on a regular file the flag changes nothing
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new AuditDirError(`${path} is not a regular file`);
    if (stat.size > MAX_SEGMENT_BYTES)
      throw new AuditDirError(`${path} holds ${stat.size} bytes, more than any segment the gateway writes`);
    return use(fd, stat.size);
  } finally {
    closeSync(fd);
  }
}

/** fsync a file or directory at once by its path (for a directory, see syncDir) */
export function syncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory at once (see syncDir) */
export const syncDirSync = syncPathSync;

/** fsync a directory, so a created or renamed file in it survives a crash */
export async function syncDir(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

// O_DSYNC on Linux: each write(2) returns only once its data, and the metadata needed to read it back
// (the file's size), are on disk, as a write followed by fdatasync would; one system call (one thread-pool
// job) per durable write instead of two. Elsewhere the write is followed by datasync(): on macOS libuv
// makes that F_FULLFSYNC, which also flushes the drive's cache, and O_DSYNC there does not.
const DSYNC = process.platform === 'linux' ? constants.O_DSYNC : 0;

/** Opens an audit file for durable appends: `create` makes a new file and fails if it exists. */
export function openForAppend(path: string, create: boolean): Promise<FileHandle> {
  const flags = constants.O_WRONLY | constants.O_APPEND | DSYNC | (create ? constants.O_CREAT | constants.O_EXCL : 0);
  return open(path, flags, 0o644);
}

/**
 * A file this writer alone appends to (opened by openForAppend), holding `size` bytes. Before each append it
 * must still end there: bytes this writer did not write are another process's appends to the same log (a
 * second writer that got past the lock), and appending after them would number entries twice. The check is
 * a synchronous fstat: one system call, not a thread-pool job, per durable write.
 */
export class OwnAppendFile {
  readonly path: string;
  private readonly handle: FileHandle;
  private bytes: number;

  constructor(handle: FileHandle, path: string, size: number) {
    this.handle = handle;
    this.path = path;
    this.bytes = size;
  }

  get size(): number {
    return this.bytes;
  }

  /** Throws AuditDirError when the file no longer ends where this writer left it. */
  checkOwn(): void {
    const { size } = fstatSync(this.handle.fd);
    if (size !== this.bytes)
      throw new AuditDirError(
        `${this.path} holds ${size} bytes where this writer left ${this.bytes}: another process writes this log (one writer per directory)`,
      );
  }

  /** Appends all of buf and resolves once it is on disk. */
  async append(buf: Buffer): Promise<void> {
    this.checkOwn();
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.handle.write(buf, done, buf.length - done);
      done += bytesWritten;
    }
    if (!DSYNC) await this.handle.datasync();
    this.bytes += buf.length;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

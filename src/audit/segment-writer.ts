// The segment the log appends to. A write that would take it past segment_max_bytes goes to a new
// segment named after its first entry's index; the directory is synced before the new file is used, so a
// crash cannot leave durable entries in a file the directory does not list.
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentName } from './format.ts';
import { appendDurably, openForAppend, syncDir } from './segments.ts';

export class SegmentWriter {
  private readonly dir: string;
  private readonly maxBytes: number;
  private file: FileHandle | undefined;
  private bytes: number;

  /** `file`: the tail segment opened at start-up (none in a new log), holding `bytes` already. */
  constructor(dir: string, maxBytes: number, file: FileHandle | undefined, bytes: number) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.file = file;
    this.bytes = bytes;
  }

  /** Appends `buf`, whose first entry has index `first`; resolves once it is on disk. */
  async append(first: number, buf: Buffer): Promise<void> {
    if (!this.file || (this.bytes > 0 && this.bytes + buf.length > this.maxBytes)) {
      const next = await openForAppend(join(this.dir, segmentName(first)), true);
      await syncDir(this.dir);
      await this.file?.close();
      this.file = next;
      this.bytes = 0;
    }
    await appendDurably(this.file, buf);
    this.bytes += buf.length;
  }

  async close(): Promise<void> {
    await this.file?.close().catch(() => {});
  }
}

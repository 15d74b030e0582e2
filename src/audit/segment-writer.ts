// The segment the log appends to. A write that would take it past segment_max_bytes goes to a new
// segment named after its first entry's index; the directory is synced before the new file is used, so a
// crash cannot leave durable entries in a file the directory does not list. Each append first checks that
// the file ends where this writer left it (./segments.ts OwnAppendFile), and that no other writer began a
// segment at this entry's index: another process's new segment leaves this one's file as it was.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { segmentName } from './format.ts';
import { AuditDirError, openForAppend, OwnAppendFile, syncDir } from './segments.ts';

export class SegmentWriter {
  private readonly dir: string;
  private readonly maxBytes: number;
  private file: OwnAppendFile | undefined;

  /** `file`: the tail segment opened at start-up (none in a new log). */
  constructor(dir: string, maxBytes: number, file: OwnAppendFile | undefined) {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.file = file;
  }

  /** Appends `buf`, whose first entry has index `first`; resolves once it is on disk, to whether a segment was
   * left behind for a new one. `beginning` runs before a new segment is begun (after the one left is known to
   * hold only this writer's entries). */
  async append(first: number, buf: Buffer, beginning?: () => Promise<void>): Promise<boolean> {
    const path = join(this.dir, segmentName(first));
    const leftBehind = this.file !== undefined;
    if (!this.file || (this.file.size > 0 && this.file.size + buf.length > this.maxBytes)) {
      // the segment left behind must hold only this writer's entries: another's there would go unnoticed
      this.file?.checkOwn();
      await beginning?.();
      const next = new OwnAppendFile(await openForAppend(path, true), path, 0);
      await syncDir(this.dir);
      await this.file?.close();
      this.file = next;
      await next.append(buf);
      return leftBehind;
    }
    if (path !== this.file.path && existsSync(path))
      throw new AuditDirError(
        `${path} was begun by another writer: another process writes this log (one writer per directory)`,
      );
    await this.file.append(buf);
    return false;
  }

  async close(): Promise<void> {
    await this.file?.close().catch(() => {});
  }
}

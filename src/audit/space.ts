// Free space on the audit volume. Below the floor the log refuses new events (logins fail closed and
// readiness says not ready) while there is still room for the checkpoints that seal what was written,
// instead of running into ENOSPC mid-write. Measured with statfs at open, periodically (the checkpoint
// interval) and at every write once the estimate (last measurement minus bytes written since) comes
// within twice the floor.
import { statfs } from 'node:fs/promises';
import type { Logger } from '../logger.ts';

export class FreeSpace {
  private estimate = 0;
  /** why the volume is refused, while it is */
  low: string | undefined;

  private readonly dir: string;
  private readonly floor: number;
  private readonly logger: Logger;

  constructor(dir: string, floor: number, logger: Logger) {
    this.dir = dir;
    this.floor = floor;
    this.logger = logger;
  }

  async check(): Promise<void> {
    const stats = await statfs(this.dir);
    const free = stats.bavail * stats.bsize;
    this.estimate = free;
    if (free < this.floor) this.markLow(free);
    else if (this.low) {
      this.low = undefined;
      this.logger.warn('audit volume back above its free-space floor; accepting events again', {
        dir: this.dir,
        free_bytes: free,
        min_free_bytes: this.floor,
      });
    }
  }

  /** check() off the write path (the checkpoint tick): a failure to measure is logged. */
  checkLogged(): void {
    this.check().catch((err: Error) =>
      this.logger.error('cannot measure free space on the audit volume', { dir: this.dir, message: err.message }),
    );
  }

  /** Whether `bytes` more can be written without crossing the floor; accounts for them when so. */
  async allows(bytes: number): Promise<boolean> {
    // far from the floor the estimate is enough; near it (within another floor's worth) every write
    // measures, so other writers on the volume are seen at once and not only on the timer
    if (!this.low && this.estimate - bytes >= 2 * this.floor) {
      this.estimate -= bytes;
      return true;
    }
    await this.check();
    if (!this.low && this.estimate - bytes >= this.floor) {
      this.estimate -= bytes;
      return true;
    }
    this.markLow(this.estimate);
    return false;
  }

  private markLow(free: number): void {
    const first = !this.low;
    this.low = `audit volume ${this.dir} has ${free} bytes free, at or below audit.min_free_bytes (${this.floor})`;
    if (first)
      this.logger.error('audit volume at its free-space floor: not ready, refusing events (logins fail closed)', {
        dir: this.dir,
        free_bytes: free,
        min_free_bytes: this.floor,
      });
  }
}

// Retention (audit.retention_days): the writer retires whole old segments, so the personal data in them is kept
// no longer than the operator's retention period. A segment is retired once its last entry is older than the
// period, never the latest segment, never before the segments the start did not read have been verified
// (./older-segments.ts), and only up to a segment boundary where a signed checkpoint carries the tree's frontier
// (segments of an earlier version, begun without one, go together with the next such boundary): the log then
// begins there, and every verifier grows the tree from that checkpoint (./scan-retired.ts). The signed marker
// is made durable first, then the segments are removed (or moved to audit.archive_dir, same names), then the
// retirement is recorded in the log (audit_segments_retired). A crash in between leaves segments the marker
// retired already: verification ignores them and the next pass removes them.
import { mkdirSync, unlinkSync } from 'node:fs';
import { archiveSegment } from './archive.ts';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { seekFrontierCheckpoint } from './checkpoint-seek.ts';
import { type AuditEvent, AuditUnavailableError } from './events.ts';
import type { CheckpointSigner } from './keys.ts';
import type { AuditStatus, FileAuditLogOptions } from './options.ts';
import { refuseExposedDirectory } from './dir-access.ts';
import { signRetiredMarker, writeRetiredMarker } from './retired-marker.ts';
import { type LastEntry, lastEntry } from './scan-frontier.ts';
import { describeProblem, ProblemList } from './scan-problems.ts';
import { listSegments, type Segment, syncDirSync, withSegmentFile } from './segments.ts';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  dir: string;
  days: number;
  /** retired segments are moved here instead of being deleted */
  archiveDir?: string | undefined;
  signer: CheckpointSigner;
  logger: Logger;
}

/** What retention sees of the writer: while it cannot record events (failed closed, closed, the volume at its
 * floor), nothing is retired. */
export interface RetainingLog {
  status(): AuditStatus;
  record(event: AuditEvent, closing: boolean): Promise<void>;
}

/** One pass's decision: the log begins at `before`; `segments` go (some may have been retired already). */
interface Plan {
  before: number;
  segments: Segment[];
  /** the entry before `before`, when the marker moves */
  last?: LastEntry;
}

export class Retention {
  private readonly options: RetentionOptions;
  private readonly log: RetainingLog;
  /** where the log begins: the signed marker's `before`, 0 when nothing was retired */
  private before: number;
  /** the older segments the start did not read have been verified */
  private verified = false;
  private running: Promise<void> | undefined;
  /** the time of each older segment's last entry (a segment left behind is never written again) */
  private readonly lastTimes = new Map<string, string>();
  /** whether a checkpoint of each tree size asked about carries a frontier: as written, or as found by the start's
   * binary search of checkpoints.jsonl (a boundary's frontier checkpoint is written once, when its segment began) */
  private readonly frontiers = new Map<number, boolean>();
  private lastError: string | undefined;
  /** settles once retirement was allowed (and its first pass begun), or will never be */
  started: Promise<void> = Promise.resolve();

  constructor(options: RetentionOptions, log: RetainingLog, before: number) {
    this.options = options;
    this.log = log;
    this.before = before;
  }

  /** The segments the start did not read have verified (or there were none): retirement may begin. */
  allow(): void {
    this.verified = true;
    this.run();
  }

  /** The writer signed a checkpoint carrying the frontier of a tree of `size` (a new segment begins there). */
  noteFrontier(size: number): void {
    this.frontiers.set(size, true);
  }

  /** Starts a pass unless one is under way (on the checkpoint tick, at a segment roll-over, after the start). */
  run(): void {
    if (!this.verified || this.running || !this.log.status().healthy) return;
    this.running = this.pass()
      .catch((err: Error) => this.failed(err))
      .finally(() => (this.running = undefined));
  }

  /** Resolves once no pass is under way. */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private failed(err: Error): void {
    // tried again at the next tick: said once per reason, not every few seconds
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.options.logger.error('audit segments could not be retired; trying again at the next checkpoint tick', {
      dir: this.options.dir,
      message: err.message,
    });
  }

  private async pass(): Promise<void> {
    const plan = this.plan();
    if (!plan.segments.length || !this.log.status().healthy) return;
    const { dir, archiveDir, signer } = this.options;
    if (plan.before > this.before) {
      const payload = { before: plan.before, leaf: plan.last!.leaf.toString('hex'), time: new Date().toISOString() };
      // durable before any segment goes: a crash then leaves segments it retired, never segments missing unsigned
      writeRetiredMarker(dir, await signRetiredMarker(payload, signer));
      this.before = plan.before;
    }
    for (const segment of plan.segments) {
      if (archiveDir) archiveSegment(dir, archiveDir, segment.name);
      else unlinkSync(join(dir, segment.name));
      this.lastTimes.delete(segment.name);
    }
    if (archiveDir) syncDirSync(archiveDir);
    syncDirSync(dir);
    this.lastError = undefined;
    const names = plan.segments.map((s) => s.name);
    this.options.logger.info('audit segments retired', { dir, segments: names, before: plan.before });
    const detail = { segments: names, before: plan.before, archived: archiveDir !== undefined };
    await this.log.record({ type: 'audit_segments_retired', detail }, true);
  }

  /** The segments to retire now: those the marker retired already, and every older segment up to the latest
   * boundary with a frontier checkpoint before which every entry is older than the retention period. */
  private plan(): Plan {
    const { segments } = listSegments(this.options.dir);
    const cutoff = new Date(Date.now() - this.options.days * DAY_MS).toISOString();
    let boundary: { before: number; segment: Segment } | undefined;
    // the latest segment is never retired: k + 1 < length
    for (let k = 0; k + 1 < segments.length; k++) {
      const segment = segments[k]!;
      const next = segments[k + 1]!.first;
      if (next <= this.before) continue;
      // times never decrease: a segment's last entry is its newest
      if (this.lastTime(segment, next - 1) >= cutoff) break;
      if (this.hasFrontier(next)) boundary = { before: next, segment };
    }
    const before = boundary?.before ?? this.before;
    const retired = segments.filter((s) => s.first < before);
    if (!boundary) return { before, segments: retired };
    return { before, segments: retired, last: this.lastEntry(boundary.segment, before - 1) };
  }

  private lastTime(segment: Segment, index: number): string {
    return this.lastTimes.get(segment.name) ?? this.lastEntry(segment, index).time;
  }

  /** The last entry (index `index`) of an older segment; its time is kept, the segment never changes. */
  private lastEntry(segment: Segment, index: number): LastEntry {
    const problems = new ProblemList(1);
    const found = withSegmentFile(join(this.options.dir, segment.name), (fd, size) =>
      size ? lastEntry(fd, size, segment.name, index, problems) : undefined,
    );
    if (!found) {
      const [problem] = problems.all();
      throw new Error(problem ? describeProblem(problem) : `${segment.name} holds no entry`);
    }
    this.lastTimes.set(segment.name, found.time);
    return found;
  }

  private hasFrontier(size: number): boolean {
    let found = this.frontiers.get(size);
    if (found === undefined) {
      found = seekFrontierCheckpoint(this.options.dir, size) !== undefined;
      this.frontiers.set(size, found);
    }
    return found;
  }
}

/** Refuses (AuditUnavailableError) an archive directory others may change, as audit.dir; creates it (0700). */
export function prepareArchive(archiveDir: string | undefined): void {
  if (!archiveDir) return;
  refuseExposedDirectory(archiveDir, 'audit.archive_dir');
  try {
    mkdirSync(archiveDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new AuditUnavailableError(
      `cannot use audit.archive_dir ${archiveDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** Retention for the log opened with `options`: none without audit.retention_days. It begins once the older
 * segments the start did not read have verified (`verified`), never when they failed. */
export function startRetention(
  options: FileAuditLogOptions,
  log: RetainingLog,
  before: number,
  verified: Promise<boolean>,
): Retention | undefined {
  const { dir, retentionDays: days, archiveDir, signer, logger } = options;
  if (days === undefined) return undefined;
  const retention = new Retention({ dir, days, archiveDir, signer, logger }, log, before);
  retention.started = verified.then((ok) => (ok ? retention.allow() : undefined));
  return retention;
}

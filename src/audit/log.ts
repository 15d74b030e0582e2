// The file-backed audit log: append-only segments of JSON lines, a Merkle tree over the entries and
// signed checkpoints. Group commit: record() calls that arrive while a write is in flight are batched
// into the next single durable write (O_DSYNC, ./segments.ts), and each call resolves only once its entry
// is on disk. The first write error latches the log as unavailable: every later record() rejects with
// AuditUnavailableError, so logins fail closed until an operator has looked at it and restarted.
// Opening (verification, witnesses, clock, free space) is in ./open.ts; segment roll-over in
// ./segment-writer.ts; signed checkpoints and their witnesses in ./checkpoint-writer.ts.
import { AuditUnavailableError, type AuditEvent, type AuditLog } from './events.ts';
import { encodeEntryEvent, sealedLines } from './encode.ts';
import type { Checkpoint } from './checkpoint-format.ts';
import { CheckpointWriter } from './checkpoint-writer.ts';
import type { AuditStatus, FileAuditLogOptions, OpenedState } from './options.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { CompactTree } from './merkle.ts';
import type { FreeSpace } from './space.ts';
import type { WriterLock } from './lock.ts';
import type { RepairedTail } from './open.ts';
import type { BackgroundCheck } from './older-segments.ts';
import type { Retention } from './retention.ts';

export type { AuditStatus, FileAuditLogOptions, OpenedState } from './options.ts';

interface Pending {
  fields: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class FileAuditLog implements AuditLog {
  readonly dir: string;
  private readonly options: FileAuditLogOptions;
  private readonly tree: CompactTree;
  private lastLeaf: Buffer;
  private readonly maxBatch: number;
  private readonly space: FreeSpace;
  private readonly lock: WriterLock;
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private failure: string | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly segment: SegmentWriter;
  private readonly checkpoints: CheckpointWriter;
  private lastTime: number;
  private writes = 0;
  /** record() calls not yet written (or refused) */
  private recording = 0;
  private idle: (() => void) | undefined;
  /** torn tails this start moved aside (./open.ts), each recorded as audit_log_repaired */
  repaired: readonly RepairedTail[] = [];
  /** the verification of the segments the start did not read (./older-segments.ts), stopped by close() */
  background: BackgroundCheck | undefined;
  /** audit.retention_days: old segments retired (./retention.ts), run on the checkpoint tick and at roll-over */
  retention: Retention | undefined;

  constructor(options: FileAuditLogOptions, state: OpenedState) {
    this.options = options;
    this.dir = options.dir;
    this.tree = state.tree;
    this.lastLeaf = state.lastLeaf;
    this.maxBatch = options.maxBatch ?? 8192;
    this.space = state.space;
    this.lock = state.lock;
    this.segment = new SegmentWriter(this.dir, options.segmentMaxBytes, state.segment);
    this.checkpoints = new CheckpointWriter(state, options);
    this.lastTime = state.lastTime;
    this.timer = setInterval(() => {
      if (this.checkpoints.markDue(this.tree)) this.kick();
      if (this.checkpoints.witnessFailure) this.checkpoints.republish();
      this.space.checkLogged();
      this.retention?.run();
    }, options.checkpointIntervalMs);
    this.timer.unref();
    this.checkpoints.republish(); // a witness behind the log catches up
    if (this.checkpoints.markDue(this.tree)) this.kick(); // entries written before a crash, not yet under a checkpoint
  }

  status(): AuditStatus {
    // a readiness probe tries the witnesses again as well: an instance out of service gets no event to do it;
    // never once closed: the lock is released, and a writer since may have had newer checkpoints witnessed
    if (this.checkpoints.witnessFailure && !this.closed) void this.checkpoints.retryWitnesses();
    const error =
      this.failure ?? (this.closed ? 'closed' : undefined) ?? this.space.low ?? this.checkpoints.witnessFailure;
    const status: AuditStatus = {
      healthy: error === undefined,
      entries: this.tree.size,
      checkpointed: this.checkpoints.size,
      writes: this.writes,
    };
    if (error) status.error = error;
    return status;
  }

  /** The latest signed checkpoint (what the witnesses hold and monitors fetch). */
  latestCheckpoint(): Checkpoint | undefined {
    return this.checkpoints.latest;
  }

  /** `closing`: a retirement under way when close() began records itself (close() waits for it) */
  async record(event: AuditEvent, closing = false): Promise<void> {
    if (this.failure) throw new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
    if (this.closed && !closing) throw new AuditUnavailableError('audit log is closed');
    // a record begun before close() is still written, and under its final checkpoint: close() waits for it
    this.recording += 1;
    try {
      await this.append(event);
    } finally {
      this.recording -= 1;
      if (this.recording === 0) this.idle?.();
    }
  }

  private async append(event: AuditEvent): Promise<void> {
    if (this.space.low) await this.space.check().catch(() => {}); // freed since? (cheap, and only when refusing)
    if (this.checkpoints.witnessFailure) await this.checkpoints.retryWitnesses(); // back since?
    const refused = this.space.low ?? this.checkpoints.witnessFailure;
    if (refused) throw new AuditUnavailableError(`audit log unavailable: ${refused}`);
    const fields = await encodeEntryEvent(event, this.options);
    // a write failed meanwhile: the queue is no longer drained
    if (this.failure) throw new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      this.kick();
    });
  }

  /** Write a checkpoint now if entries are not yet covered by one; resolves when it is durable and witnessed. */
  async checkpoint(): Promise<void> {
    this.checkpoints.markDue(this.tree);
    this.kick();
    while (this.running) await this.running;
    await this.checkpoints.settled();
    if (this.failure) throw new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.background?.stop();
    await this.retention?.settled();
    if (this.recording > 0) await new Promise<void>((ok) => (this.idle = ok));
    if (!this.failure) this.checkpoints.markDue(this.tree);
    this.kick();
    while (this.running) await this.running;
    await this.checkpoints.settled();
    await this.segment.close();
    await this.checkpoints.close().catch(() => {});
    await this.lock.release();
  }

  private kick(): void {
    if (this.running) return;
    // the write starts one macrotask later: the entries a request records together (each encoded
    // asynchronously) then share one durable write instead of the first going alone
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.running = undefined;
        if (!this.failure && (this.queue.length || this.checkpoints.due)) this.kick();
      });
  }

  private async drain(): Promise<void> {
    while (!this.failure && (this.queue.length || this.checkpoints.due)) {
      if (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.writeBatch(batch);
        } catch (err) {
          this.fail(err as Error, batch);
          return;
        }
      }
      if (this.checkpoints.take(this.tree)) {
        try {
          await this.writeCheckpoint();
        } catch (err) {
          this.fail(err as Error, []);
          return;
        }
      }
    }
  }

  /** Non-decreasing UTC milliseconds, even if the wall clock steps back. */
  private now(): number {
    this.lastTime = Math.max(Date.now(), this.lastTime);
    return this.lastTime;
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const time = new Date(this.now()).toISOString();
    const first = this.tree.size;
    const unsealed = batch.map((p, k) => `{"i":${first + k},"t":"${time}",${p.fields}}`);
    const { text, leaves } = sealedLines(this.options.mac, unsealed, this.lastLeaf);
    const buf = Buffer.from(text);
    if (!(await this.space.allows(buf.length))) {
      // not latched: readiness recovers once space is freed (checked on the timer)
      const error = new AuditUnavailableError(`audit log unavailable: ${this.space.low}`);
      for (const p of batch) p.reject(error);
      return;
    }
    // a new segment begins with a checkpoint of the tree so far carrying its frontier: a start verifies from
    // there, and the older segments after it (./open.ts); the segment left behind may be old enough to retire
    const { latest } = this.checkpoints;
    const frontier = first > 0 && !(latest?.size === first && latest.frontier);
    if (await this.segment.append(first, buf, frontier ? () => this.writeCheckpoint(true) : undefined))
      this.retention?.run();
    this.writes++;
    for (const leaf of leaves) this.tree.push(leaf);
    this.lastLeaf = leaves.at(-1) ?? this.lastLeaf;
    for (const p of batch) p.resolve();
  }

  private async writeCheckpoint(withFrontier = false): Promise<void> {
    const cp = await this.checkpoints.sign(this.tree, this.now(), withFrontier);
    if (withFrontier) this.retention?.noteFrontier(cp.size);
    await this.checkpoints.append(cp);
  }

  private fail(err: Error, batch: Pending[]): void {
    const code = (err as NodeJS.ErrnoException).code;
    this.queue.unshift(...batch);
    this.failClosed(
      `cannot write to ${this.dir} (${code ?? err.message})`,
      'audit log write failed; refusing further events until restart',
      { code, message: err.message },
    );
  }

  /** Latches the log as unavailable (the first reason stays): events queued and to come are refused until a
   * restart, readiness says not ready; one error line. */
  failClosed(failure: string, message: string, fields: Record<string, unknown>): void {
    if (!this.failure) this.options.logger.error(message, { dir: this.dir, ...fields });
    this.failure ??= failure;
    const error = new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
    for (const p of this.queue.splice(0)) p.reject(error);
  }
}

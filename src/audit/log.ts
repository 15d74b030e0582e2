// The file-backed audit log: append-only segments of JSON lines, a Merkle tree over the entries and
// signed checkpoints. Group commit: record() calls that arrive while a write is in flight are batched
// into the next single write + fdatasync, and each call resolves only once its entry is on disk. The
// first write error latches the log as unavailable: every later record() rejects with
// AuditUnavailableError, so logins fail closed until an operator has looked at it and restarted.
import { createHash, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, closeSync, fsyncSync, ftruncateSync, readSync, fstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';
import { AUDIT_EVENTS, AuditUnavailableError, type AuditEvent, type AuditLog } from './events.ts';
import { CHECKPOINTS_FILE, encodeCheckpointLine, encodeEntryLine, PUBLIC_KEY_FILE, segmentName, TORN_DIR } from './format.ts';
import { signCheckpoint, writeNewFileSync, type AuditorKey, type CheckpointSigner } from './keys.ts';
import type { CompactTree } from './merkle.ts';
import { encryptClaims, hashSubject, redactedDetailJson } from './privacy.ts';
import { describeProblem, scanLog, type ScanResult, type TornTail } from './scan.ts';

export interface FileAuditLogOptions {
  dir: string;
  signer: CheckpointSigner;
  /** HMAC key for subjects */
  subjectKey: string;
  /** released claims are stored only when an auditor key is configured, and then only as JWE */
  auditor?: AuditorKey | undefined;
  /** write a checkpoint after this many new entries */
  checkpointEvery: number;
  /** ... or after this long, when there are entries not yet covered */
  checkpointIntervalMs: number;
  segmentMaxBytes: number;
  /** what to do with a torn tail found at start-up (see README) */
  tornTail: 'refuse' | 'repair';
  logger: Logger;
  /** most entries per write (bounds memory under a burst) */
  maxBatch?: number;
}

export interface AuditStatus {
  healthy: boolean;
  entries: number;
  /** tree size of the latest checkpoint */
  checkpointed: number;
  /** write + fdatasync rounds since open (entries / writes = the group-commit batch size) */
  writes: number;
  error?: string;
}

/** A repaired torn tail, as recorded in the log. */
export interface RepairedTail extends TornTail {
  digest: string;
  movedTo: string;
}

interface Pending {
  fields: string;
  resolve: () => void;
  reject: (err: Error) => void;
}

const MAX_ENTRY_BYTES = 16 * 1024;

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
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
    const movedTo = join(TORN_DIR, `${torn.file}.${torn.offset}.torn`);
    writeNewFileSync(join(dir, movedTo), bytes, 0o600);
    fsyncSync(fd); // nothing new, but the order matters: the copy is durable before the cut
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
    return { ...torn, length: bytes.length, digest: 'sha256:' + createHash('sha256').update(bytes).digest('base64url'), movedTo };
  } finally {
    closeSync(fd);
  }
}

function samePublicKey(pem: string, signer: CheckpointSigner): boolean {
  try {
    return createPublicKey(pem).export({ type: 'spki', format: 'der' }).equals(signer.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

export class FileAuditLog implements AuditLog {
  readonly dir: string;
  private readonly o: FileAuditLogOptions;
  private readonly tree: CompactTree;
  private readonly maxBatch: number;
  private queue: Pending[] = [];
  private running: Promise<void> | undefined;
  private failure: string | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private segment: FileHandle | undefined;
  private segmentBytes = 0;
  private checkpoints!: FileHandle;
  private lastTime = 0;
  private cpNext = 0;
  private cpSize = 0;
  private cpDue = false;
  private writes = 0;

  private constructor(o: FileAuditLogOptions, tree: CompactTree) {
    this.o = o;
    this.dir = o.dir;
    this.tree = tree;
    this.maxBatch = o.maxBatch ?? 8192;
  }

  /**
   * Open (or create) the log. Refuses with AuditUnavailableError when the directory cannot be used, belongs
   * to another checkpoint key, fails verification, or has a torn tail and `tornTail` is `refuse`.
   */
  static async open(o: FileAuditLogOptions): Promise<FileAuditLog> {
    const { dir, logger } = o;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const keyFile = join(dir, PUBLIC_KEY_FILE);
      if (existsSync(keyFile)) {
        if (!samePublicKey(readFileSync(keyFile, 'utf8'), o.signer)) {
          throw new AuditUnavailableError(`audit directory ${dir} belongs to another checkpoint key than ${o.signer.kid} (see ${PUBLIC_KEY_FILE}); refusing to mix keys in one log`);
        }
      } else {
        writeNewFileSync(keyFile, o.signer.publicPem, 0o644);
        await syncDir(dir);
      }
    } catch (err) {
      if (err instanceof AuditUnavailableError) throw err;
      throw new AuditUnavailableError(`cannot use audit directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }

    const scanned = (): Promise<ScanResult> =>
      scanLog(dir, { key: o.signer, signatures: 'latest', maxProblems: 5 }).catch((err: Error) => {
        throw new AuditUnavailableError(`cannot read audit log ${dir}: ${err.message}`);
      });
    let scan = await scanned();
    const damage = scan.problems.filter((p) => p.kind !== 'torn');
    if (damage.length) {
      throw new AuditUnavailableError(`audit log in ${dir} fails verification: ${describeProblem(damage[0]!)}; run "vpm-gateway audit verify ${dir}"`);
    }
    const repaired: RepairedTail[] = [];
    if (scan.torn.length) {
      const where = scan.problems.filter((p) => p.kind === 'torn').map(describeProblem).join('; ');
      if (o.tornTail === 'refuse') {
        throw new AuditUnavailableError(`audit log in ${dir} has a torn tail (an interrupted write, never acknowledged): ${where}; run "vpm-gateway audit repair" to move it aside`);
      }
      for (const t of scan.torn) repaired.push(moveTornTailAside(dir, t));
      await syncDir(dir);
      logger.warn('audit log torn tail moved aside', { dir, tails: repaired.map((r) => ({ file: r.file, offset: r.offset, length: r.length, moved_to: r.movedTo })) });
      scan = await scanned();
      if (scan.problems.length) throw new AuditUnavailableError(`audit log in ${dir} fails verification after repair: ${describeProblem(scan.problems[0]!)}`);
    }

    const log = new FileAuditLog(o, scan.tree);
    const last = scan.checkpoints.at(-1)?.checkpoint;
    log.cpNext = last ? last.n + 1 : 0;
    log.cpSize = last ? last.size : 0;
    log.lastTime = Math.max(scan.lastTime ? Date.parse(scan.lastTime) : 0, last ? Date.parse(last.time) : 0);
    try {
      if (scan.lastSegment) {
        log.segment = await open(join(dir, scan.lastSegment.name), 'a');
        log.segmentBytes = scan.lastSegment.bytes;
      }
      const cpExisted = existsSync(join(dir, CHECKPOINTS_FILE));
      log.checkpoints = await open(join(dir, CHECKPOINTS_FILE), 'a', 0o644);
      if (!cpExisted) await syncDir(dir);
    } catch (err) {
      await log.segment?.close();
      throw new AuditUnavailableError(`cannot open audit log files in ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    log.timer = setInterval(() => {
      if (log.tree.size > log.cpSize) {
        log.cpDue = true;
        log.kick();
      }
    }, o.checkpointIntervalMs);
    log.timer.unref();
    logger.info('audit log opened', { dir, entries: scan.entries, checkpoints: scan.checkpoints.length, checkpoint_key: o.signer.kid });
    for (const r of repaired) {
      await log.record({ type: 'audit_log_repaired', detail: { file: r.file, offset: r.offset, line: r.line, length: r.length, digest: r.digest, moved_to: r.movedTo } });
    }
    if (log.tree.size > log.cpSize) {
      log.cpDue = true; // entries written before a crash, not yet under a checkpoint
      log.kick();
    }
    return log;
  }

  status(): AuditStatus {
    const s: AuditStatus = { healthy: !this.failure && !this.closed, entries: this.tree.size, checkpointed: this.cpSize, writes: this.writes };
    if (this.failure) s.error = this.failure;
    return s;
  }

  async record(event: AuditEvent): Promise<void> {
    if (this.failure) throw new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
    if (this.closed) throw new AuditUnavailableError('audit log is closed');
    const fields = await this.encode(event);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      this.kick();
    });
  }

  /** Write a checkpoint now if entries are not yet covered by one; resolves when it is durable. */
  async checkpoint(): Promise<void> {
    if (this.tree.size > this.cpSize) this.cpDue = true;
    this.kick();
    while (this.running) await this.running;
    if (this.failure) throw new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    if (!this.failure && this.tree.size > this.cpSize) this.cpDue = true;
    this.kick();
    while (this.running) await this.running;
    await this.segment?.close().catch(() => {});
    await this.checkpoints?.close().catch(() => {});
  }

  /** Everything of an entry except index and time, as JSON members; personal data hashed/encrypted. */
  private async encode(event: AuditEvent): Promise<string> {
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string' || !Object.hasOwn(AUDIT_EVENTS, event.type)) {
      throw new TypeError(`audit event type ${JSON.stringify((event as AuditEvent | null)?.type)} is not in the vocabulary`);
    }
    for (const key of ['correlationId', 'clientId', 'providerId'] as const) {
      if (event[key] !== undefined && typeof event[key] !== 'string') throw new TypeError(`audit event ${key} must be a string`);
    }
    let sub: string | undefined;
    let claims: string | undefined;
    if (event.person) {
      if (typeof event.person.subject !== 'string' || event.person.subject.length === 0) throw new TypeError('audit event person.subject must be a non-empty string');
      sub = hashSubject(this.o.subjectKey, event.person.subject);
      if (event.person.claims && this.o.auditor) claims = await encryptClaims(event.person.claims, this.o.auditor);
    }
    const head = JSON.stringify({ type: event.type, code: AUDIT_EVENTS[event.type], corr: event.correlationId, client: event.clientId, provider: event.providerId, sub, claims });
    let fields = head.slice(1, -1);
    if (event.detail !== undefined) {
      if (typeof event.detail !== 'object' || event.detail === null || Array.isArray(event.detail)) throw new TypeError('audit event detail must be an object');
      const { json, redacted } = redactedDetailJson(event.detail);
      if (redacted) this.o.logger.warn('personal-code-like value removed from audit detail', { type: event.type, correlation_id: event.correlationId });
      fields += `,"detail":${json}`;
    }
    if (fields.length > MAX_ENTRY_BYTES) throw new TypeError(`audit event ${event.type} is larger than ${MAX_ENTRY_BYTES} bytes`);
    return fields;
  }

  private kick(): void {
    if (this.running) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (!this.failure && (this.queue.length || this.cpDue)) this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.failure && (this.queue.length || this.cpDue)) {
      if (this.queue.length) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.writeBatch(batch);
        } catch (err) {
          this.fail(err as Error, batch);
          return;
        }
      }
      if (this.cpDue || this.tree.size - this.cpSize >= this.o.checkpointEvery) {
        this.cpDue = false;
        if (this.tree.size > this.cpSize) {
          try {
            await this.writeCheckpoint();
          } catch (err) {
            this.fail(err as Error, []);
            return;
          }
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
    const t = new Date(this.now()).toISOString();
    const first = this.tree.size;
    const leaves: Buffer[] = [];
    let text = '';
    batch.forEach((p, k) => {
      const { line, leaf } = encodeEntryLine(`{"i":${first + k},"t":"${t}",${p.fields}}`);
      text += line;
      leaves.push(leaf);
    });
    const buf = Buffer.from(text);
    if (!this.segment || (this.segmentBytes > 0 && this.segmentBytes + buf.length > this.o.segmentMaxBytes)) {
      const next = await open(join(this.dir, segmentName(first)), 'ax', 0o644);
      await syncDir(this.dir);
      await this.segment?.close();
      this.segment = next;
      this.segmentBytes = 0;
    }
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.segment.write(buf, done, buf.length - done);
      done += bytesWritten;
    }
    await this.segment.datasync();
    this.writes++;
    this.segmentBytes += buf.length;
    for (const leaf of leaves) this.tree.push(leaf);
    for (const p of batch) p.resolve();
  }

  private async writeCheckpoint(): Promise<void> {
    const cp = await signCheckpoint({ n: this.cpNext, size: this.tree.size, root: this.tree.root().toString('hex'), time: new Date(this.now()).toISOString() }, this.o.signer);
    await this.checkpoints.write(encodeCheckpointLine(cp));
    await this.checkpoints.datasync();
    this.cpNext++;
    this.cpSize = cp.size;
  }

  private fail(err: Error, batch: Pending[]): void {
    const code = (err as NodeJS.ErrnoException).code;
    this.failure = `cannot write to ${this.dir} (${code ?? err.message})`;
    this.o.logger.error('audit log write failed; refusing further events until restart', { dir: this.dir, code, message: err.message });
    const error = new AuditUnavailableError(`audit log unavailable: ${this.failure}`);
    for (const p of [...batch, ...this.queue.splice(0)]) p.reject(error);
  }
}

// Opening the file-backed log: the directory must belong to this checkpoint key, verify (entries, tree, latest
// checkpoint signature, the MAC of every entry no checkpoint covers yet; from the latest segment's signed
// frontier when it has one, the older segments then verified after the start), agree with every witness, hold
// no time ahead of the clock, and sit on a volume above its free-space floor. Anything else refuses the start
// with AuditUnavailableError (fail closed).
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { refuseExposedDirectory } from './dir-access.ts';
import { type AuditEvent, AuditUnavailableError } from './events.ts';
import { CHECKPOINTS_FILE, PUBLIC_KEY_FILE } from './format.ts';
import { writeNewFileSync, type CheckpointSigner } from './keys.ts';
import { WriterLock } from './lock.ts';
import { FileAuditLog, type FileAuditLogOptions } from './log.ts';
import { openForAppend, OwnAppendFile, syncDir } from './segments.ts';
import { describeProblem, scanLog, type ScanResult } from './scan.ts';
import { FreeSpace } from './space.ts';
import { checkOlderSegments, type OlderSegments } from './older-segments.ts';
import { prepareArchive, startRetention } from './retention.ts';
import { moveTornTailAside, type RepairedTail } from './torn-tail.ts';
import { checkWitnesses, futureTimeProblem } from './witness.ts';

export type { RepairedTail } from './torn-tail.ts';

function samePublicKey(pem: string, signer: CheckpointSigner): boolean {
  try {
    return createPublicKey(pem)
      .export({ type: 'spki', format: 'der' })
      .equals(signer.publicKey.export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

function claimDirectory(dir: string, signer: CheckpointSigner): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keyFile = join(dir, PUBLIC_KEY_FILE);
    if (existsSync(keyFile)) {
      if (!samePublicKey(readFileSync(keyFile, 'utf8'), signer)) {
        throw new AuditUnavailableError(
          `audit directory ${dir} belongs to another checkpoint key than ${signer.kid} (see ${PUBLIC_KEY_FILE}); refusing to mix keys in one log`,
        );
      }
      return false;
    }
    writeNewFileSync(keyFile, signer.publicPem, 0o644);
    return true;
  } catch (err) {
    if (err instanceof AuditUnavailableError) throw err;
    throw new AuditUnavailableError(
      `cannot use audit directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/**
 * Open (or create) the log, holding its writer lock (./lock.ts) until close. Refuses with
 * AuditUnavailableError when another writer holds the lock, the directory cannot be used, belongs to
 * another checkpoint key, fails verification, disagrees with a witness, holds a time ahead of the
 * clock, sits below its free-space floor, or has a torn tail and `tornTail` is `refuse`; and, with the same
 * error as record(), when the repair or the lock takeover it made cannot be recorded (the log closed first).
 */
export async function openFileAuditLog(options: FileAuditLogOptions): Promise<FileAuditLog> {
  // before the claim reads or writes anything in it: a key copy planted there, or left there for others
  refuseExposedDirectory(options.dir);
  prepareArchive(options.archiveDir);
  if (claimDirectory(options.dir, options.signer)) await syncDir(options.dir);
  const lock = await WriterLock.acquire(options.dir);
  let opened: Opened;
  try {
    opened = await openLocked(options, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
  try {
    await begin(options, lock, opened);
  } catch (err) {
    // the log exists: a refused start ends it (timer, older segments' worker, then the lock). Its timer would
    // otherwise hand the latest checkpoint to the witnesses on every tick after the lock is released, setting
    // back a later writer's newer witness.
    await opened.log.close().catch((closing: Error) =>
      options.logger.error('audit log of a refused start not closed cleanly', {
        dir: options.dir,
        message: closing.message,
      }),
    );
    throw err;
  }
  return opened.log;
}

/** The log openLocked made, and what its start still has to begin and record. */
interface Opened {
  log: FileAuditLog;
  older: OlderSegments | undefined;
  retiredBefore: number;
  repaired: RepairedTail[];
}

/** Starts what runs beside the log and records what the start did (the repairs, a lock taken over). The
 * records are all begun in one synchronous step, so they go into the log together, in one durable write: a
 * witness failure the log learns meanwhile (its catch-up write, begun on opening) cannot take the first and
 * refuse the next, leaving a tail moved aside and never recorded; the log refuses the next event instead. A
 * record refused (the durable write failing, the volume at its floor) refuses the start. */
async function begin(options: FileAuditLogOptions, lock: WriterLock, opened: Opened): Promise<void> {
  const { log, older, repaired } = opened;
  if (older) log.background = checkOlderSegments(older, log, options.logger);
  log.retention = startRetention(options, log, opened.retiredBefore, log.background?.done ?? Promise.resolve(true));
  log.repaired = repaired;
  const events: AuditEvent[] = repaired.map((r) => ({
    type: 'audit_log_repaired',
    detail: { file: r.file, offset: r.offset, line: r.line, length: r.length, digest: r.digest, moved_to: r.movedTo },
  }));
  const gone = lock.tookOver;
  if (gone) {
    options.logger.warn('audit writer lock of a writer that is gone taken over', { dir: options.dir, ...gone });
    events.push({
      type: 'audit_writer_lock_taken_over',
      detail: { pid: gone.pid, host: gone.host, started: gone.started },
    });
  }
  await Promise.all(events.map((event) => log.record(event)));
}

async function openLocked(options: FileAuditLogOptions, lock: WriterLock): Promise<Opened> {
  const { dir, logger } = options;

  const scanned = (): Promise<ScanResult> =>
    scanLog(dir, {
      key: options.signer,
      signatures: 'latest',
      maxProblems: 5,
      mac: options.mac,
      fromLatestSegment: true,
    }).catch((err: Error) => {
      throw new AuditUnavailableError(`cannot read audit log ${dir}: ${err.message}`);
    });
  let scan = await scanned();
  const damage = scan.problems.filter((p) => p.kind !== 'torn');
  if (damage.length) {
    throw new AuditUnavailableError(
      `audit log in ${dir} fails verification: ${describeProblem(damage[0]!)}; run "vpm-gateway audit verify --config FILE"`,
    );
  }
  if (scan.torn.length && options.tornTail === 'refuse') {
    const where = scan.problems
      .filter((p) => p.kind === 'torn')
      .map(describeProblem)
      .join('; ');
    throw new AuditUnavailableError(
      `audit log in ${dir} has a torn tail (an interrupted write, never acknowledged): ${where}; run "vpm-gateway audit repair" to move it aside`,
    );
  }
  // every other reason to refuse is checked before a torn tail is moved aside: the repair is recorded in the
  // log it repaired, which a refused start would not do (a torn tail holds no entry or checkpoint the scan
  // counted, so the time, the checkpoints and the size these checks read are the same after it)
  const latest = scan.checkpoints.at(-1)?.checkpoint;
  const future = futureTimeProblem([scan.lastTime, latest?.time], options.maxClockSkewMs);
  if (future) throw new AuditUnavailableError(`audit log in ${dir}: ${future}`);
  const disagree = await checkWitnesses(options.witnesses, scan, options.signer);
  if (disagree.length) throw new AuditUnavailableError(`audit log in ${dir} refused: ${disagree.join('; ')}`);
  const space = new FreeSpace(dir, options.minFreeBytes, logger);
  try {
    await space.check();
  } catch (err) {
    throw new AuditUnavailableError(
      `cannot measure free space of ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if (space.low) throw new AuditUnavailableError(`audit log refused: ${space.low}`);

  const repaired: RepairedTail[] = [];
  if (scan.torn.length) {
    for (const t of scan.torn) repaired.push(moveTornTailAside(dir, t));
    await syncDir(dir);
    logger.warn('audit log torn tail moved aside', {
      dir,
      tails: repaired.map((r) => ({ file: r.file, offset: r.offset, length: r.length, moved_to: r.movedTo })),
    });
    scan = await scanned();
    if (scan.problems.length)
      throw new AuditUnavailableError(
        `audit log in ${dir} fails verification after repair: ${describeProblem(scan.problems[0]!)}`,
      );
  }

  let segment: OwnAppendFile | undefined;
  let checkpointsFile: OwnAppendFile;
  try {
    if (scan.lastSegment) {
      const path = join(dir, scan.lastSegment.name);
      segment = new OwnAppendFile(await openForAppend(path, false), path, scan.lastSegment.bytes);
    }
    // a missing file is created exclusively: a dangling symbolic link in its place is refused (EEXIST)
    const path = join(dir, CHECKPOINTS_FILE);
    const checkpointsExisted = existsSync(path);
    const handle = await openForAppend(path, !checkpointsExisted);
    // the size verified, not the size found now: a checkpoint another writer appended since is not this one's
    checkpointsFile = new OwnAppendFile(handle, path, scan.checkpointsBytes);
    if (!checkpointsExisted) await syncDir(dir);
  } catch (err) {
    await segment?.close();
    throw new AuditUnavailableError(
      `cannot open audit log files in ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const lastTime = Math.max(scan.lastTime ? Date.parse(scan.lastTime) : 0, latest ? Date.parse(latest.time) : 0);
  const log = new FileAuditLog(options, {
    tree: scan.tree,
    lastLeaf: scan.lastLeaf,
    latest,
    lastTime,
    segment,
    checkpoints: checkpointsFile,
    space,
    lock,
  });
  logger.info('audit log opened', {
    dir,
    entries: scan.entries,
    checkpoints: scan.checkpointCount,
    checkpoint_key: options.signer.kid,
    witnesses: options.witnesses.map((w) => w.name),
    // what the start read: every segment, or the latest from its signed frontier (the rest after the start)
    verified_at_start: scan.older ? { from_entry: scan.older.next.first, segment: scan.older.next.name } : 'all',
    ...(scan.older ? { verifying_after_start: { segments: scan.older.segments.length } } : {}),
    // and of checkpoints.jsonl: every line, or those from the checkpoint it grew the tree from (the rest after it)
    checkpoints_read_from: scan.checkpointsFrom
      ? { checkpoint: scan.checkpointsFrom.checkpoint.n, byte: scan.checkpointsFrom.offset }
      : 'all',
  });
  return { log, older: scan.older, retiredBefore: scan.retiredBefore ?? 0, repaired };
}

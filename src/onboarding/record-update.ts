// One change of a record file at a time, made on what the file holds when it is written: a command reads
// the record when it starts and may write minutes later (a test login waits for the operator), while
// another command moves the same provider meanwhile. A change takes the record's lock file
// (`.<id>.lock`, created exclusively), reads the file again and either applies its report to what it
// finds (a probe or test login report) or, for a stage move decided on an earlier revision, refuses:
// the move that came in between is never undone without anyone seeing it.
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseRecord, recordPath, writeRecord } from './files.ts';
import type { RegistryRecord } from './record.ts';

/** A change that could not be written; nothing was. */
export class RecordWriteError extends Error {
  override name = 'RecordWriteError';
}

/** The record moved on since the command read it. */
export class RecordConflictError extends RecordWriteError {
  override name = 'RecordConflictError';
  constructor(path: string, read: number, found: number) {
    super(
      `${path}: changed while this command ran (it read revision ${read}, the file holds revision ${found}); ` +
        'nothing written: check the record (providers show) and run the command again',
    );
  }
}

/** A write holds the lock for milliseconds: one older than this was left by a command that died. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const LOCK_RETRY_MS = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function tryCreate(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, `${JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() })}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a stale lock if it is still the one judged stale (renamed aside first, compared, else put back). */
function removeStale(path: string, text: string): void {
  const aside = `${path}.stale-${randomBytes(6).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readText(aside) !== text) {
    try {
      linkSync(aside, path);
    } catch {
      // a newer lock is already in place: it stays, ours goes
    }
  }
  unlinkSync(aside);
}

async function lock(path: string): Promise<() => void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!tryCreate(path)) {
    const text = readText(path);
    if (text === undefined) continue;
    const age = Date.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (age > STALE_LOCK_MS) removeStale(path, text);
    else if (Date.now() > deadline)
      throw new RecordWriteError(
        `${path}: another command is writing this record; nothing written (remove the file if no command runs)`,
      );
    else await sleep(LOCK_RETRY_MS);
  }
  return () => {
    try {
      unlinkSync(path);
    } catch {
      // already gone: nothing to release
    }
  };
}

export interface RecordUpdate {
  path: string;
  /** the record as the file held it when the change was made */
  previous: RegistryRecord;
  /** the record written, one revision on */
  next: RegistryRecord;
}

/**
 * Writes `change` of the record `id` as the file holds it now, one revision on. With `readRevision`
 * (a stage move decided on that revision) a file holding another revision is a RecordConflictError.
 * The result is checked as a start would read it: a file that is no record, or a result with a problem the
 * file did not have, writes nothing.
 */
export async function updateRecord(
  dir: string,
  id: string,
  change: (current: RegistryRecord) => RegistryRecord,
  readRevision?: number,
): Promise<RecordUpdate> {
  const path = recordPath(dir, id);
  const release = await lock(join(dir, `.${id}.lock`));
  try {
    const text = readText(path);
    if (text === undefined) throw new RecordWriteError(`${path}: the record file is gone; nothing written`);
    const { record: previous, problems } = parseRecord(text, path);
    if (!previous) throw new RecordWriteError(`${problems.join('; ')}; nothing written`);
    if (readRevision !== undefined && previous.revision !== readRevision)
      throw new RecordConflictError(path, readRevision, previous.revision);
    const next = { ...change(previous), revision: previous.revision + 1 };
    // a change may leave a problem the file already had (a probe is how a missing one is put right), never add one
    const added = parseRecord(stringify(next, { lineWidth: 0 }), path).problems.filter((p) => !problems.includes(p));
    if (added.length) throw new RecordWriteError(`${added.join('; ')}; nothing written`);
    writeRecord(dir, next);
    return { path, previous, next };
  } finally {
    release();
  }
}

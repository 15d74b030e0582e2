// One writer per log: opening a log for writing creates `writer.lock` in its directory with O_EXCL
// (`wx`), holding the writer's pid, host and start time. A second writer, in this process or another,
// finds it and refuses. A lock left by a writer that is gone (its pid no longer alive on this host) is
// taken over: renamed aside atomically, checked to be the very lock judged stale, then created anew;
// the opener records the takeover in the log. A lock of another host is never taken over (its pid
// cannot be checked from here): the operator removes it after making sure that writer is gone.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { AuditUnavailableError } from './events.ts';
import { WRITER_LOCK_FILE } from './format.ts';
import { syncDir } from './segments.ts';

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  token: string;
}

/** A lock file that cannot be read as a holder is being written, unless it is older than this. */
const UNREADABLE_GRACE_MS = 10_000;

function parseHolder(text: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.host === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false; // EPERM: there, owned by another user
  }
  return !exited(pid);
}

/** Whether `pid` has exited and waits only to be reaped (a zombie, Linux's state Z in /proc/PID/stat): its
 * files are closed. Workers whose primary was killed are such until their new parent reaps them, which
 * under load can be after the next start looks at their locks. Elsewhere (no /proc) a pid that exists is
 * taken as alive. */
function exited(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (COMM) STATE ...": COMM may hold any character, ')' too
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false;
  }
}

/** Tokens of the locks this process holds: a lock naming this pid but none of them is a previous
 * process's (a container restarts its gateway under the same pid), not a second open here. */
const heldHere = new Set<string>();

export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} on host ${holder.host} since ${holder.started}`;
}

async function readLock(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function create(path: string, holder: LockHolder): Promise<boolean> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await file.writeFile(`${JSON.stringify(holder)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return true;
}

/**
 * The writer holding the lock of `dir` now, if any: undefined when there is no lock or its writer is gone
 * (a lock `acquire` would take over). A lock of another host, or one still being written, counts as held.
 */
export async function liveHolder(dir: string): Promise<LockHolder | undefined> {
  const path = join(dir, WRITER_LOCK_FILE);
  const text = await readLock(path);
  if (text === undefined) return undefined;
  const holder = parseHolder(text);
  if (!holder) {
    const written = await stat(path).catch(() => undefined);
    const fresh = written !== undefined && Date.now() - written.mtimeMs < UNREADABLE_GRACE_MS;
    return fresh ? { pid: 0, host: 'unknown', started: 'unknown', token: '' } : undefined;
  }
  if (holder.host !== hostname()) return holder;
  return (holder.pid === process.pid ? heldHere.has(holder.token) : alive(holder.pid)) ? holder : undefined;
}

export class WriterLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** the dead writer whose lock was taken over, if any */
  readonly tookOver: LockHolder | undefined;
  private released = false;

  private constructor(path: string, holder: LockHolder, tookOver: LockHolder | undefined) {
    this.path = path;
    this.holder = holder;
    this.tookOver = tookOver;
  }

  private static held(path: string, holder: LockHolder, tookOver: LockHolder | undefined): WriterLock {
    heldHere.add(holder.token);
    return new WriterLock(path, holder, tookOver);
  }

  /** Take the lock of `dir` or refuse with AuditUnavailableError naming the directory and the holder. */
  static async acquire(dir: string): Promise<WriterLock> {
    const path = join(dir, WRITER_LOCK_FILE);
    const holder: LockHolder = {
      pid: process.pid,
      host: hostname(),
      started: new Date().toISOString(),
      token: randomBytes(12).toString('base64url'),
    };
    const refuse = (why: string) =>
      new AuditUnavailableError(
        `audit log ${dir} is being written by another writer (${why}); one writer per log: give this instance its own audit.dir (remove ${path} only when that writer is gone)`,
      );
    try {
      if (await create(path, holder)) return WriterLock.held(path, holder, undefined);
      const text = await readLock(path);
      if (text === undefined) {
        if (await create(path, holder)) return WriterLock.held(path, holder, undefined);
        throw refuse('lock created concurrently');
      }
      const stale = parseHolder(text);
      if (!stale) {
        const age = Date.now() - (await stat(path)).mtimeMs;
        if (age < UNREADABLE_GRACE_MS) throw refuse('lock being created');
      } else if (stale.host !== holder.host) {
        throw refuse(`${describeHolder(stale)}; a lock of another host is never taken over`);
      } else if (stale.pid === process.pid ? heldHere.has(stale.token) : alive(stale.pid)) {
        throw refuse(describeHolder(stale));
      }
      const aside = `${path}.stale-${holder.token}`;
      await rename(path, aside);
      if ((await readFile(aside, 'utf8')) !== text) {
        // another writer took it over between our read and our rename: give its lock back
        await link(aside, path).catch(() => {});
        await unlink(aside);
        throw refuse('lock taken over concurrently');
      }
      await unlink(aside);
      if (!(await create(path, holder))) throw refuse('lock taken over concurrently');
      await syncDir(dir);
      return WriterLock.held(path, holder, stale ?? { pid: 0, host: 'unknown', started: 'unknown', token: '' });
    } catch (err) {
      if (err instanceof AuditUnavailableError) throw err;
      throw new AuditUnavailableError(
        `cannot take the writer lock ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }

  /** Remove the lock file if it is still this writer's. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    heldHere.delete(this.holder.token);
    const text = await readLock(this.path).catch(() => undefined);
    if (text !== undefined && parseHolder(text)?.token === this.holder.token) await unlink(this.path).catch(() => {});
  }
}

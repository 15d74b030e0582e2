// Who besides the gateway can change the log's directory. Tampering is detected, but a directory every local
// user may write lets any of them plant or swap files the writer then opens: a symbolic link in place of a
// segment or of checkpoints.jsonl sends the durable appends elsewhere (another file, /dev/null), a planted
// writer.lock or next segment name stops the writer. The writer therefore refuses to start when the
// directory, or anything in it, may be written by every local user, or when an entry in it is a symbolic
// link (the gateway creates only regular files and its torn/ folder there). Write access for the group is
// allowed, as for the key files (a volume mounted for the service's group, such as Kubernetes' fsGroup).
// The owner may always write (chmod is the owner's): so the directory and its files must belong to the
// gateway's own user or to root, as OpenSSH's StrictModes asks of ~/.ssh; another account's files are
// that account's to change.
import { lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { AuditUnavailableError } from './events.ts';
import { TORN_DIR } from './format.ts';

/** write permission for every local user */
const OTHERS_WRITE = 0o002;

/** undefined where the platform has no user ids */
const ownUid = process.getuid?.();

function problemOf(path: string, stat: Stats): string | undefined {
  if (stat.isSymbolicLink()) return `${path} is a symbolic link; the log's files must be its own regular files`;
  if (ownUid !== undefined && stat.uid !== ownUid && stat.uid !== 0)
    return `${path} belongs to uid ${stat.uid}, neither the gateway's user (uid ${ownUid}) nor root: chown ${ownUid}`;
  if (stat.mode & OTHERS_WRITE)
    return `${path} is writable by every local user (mode ${(stat.mode & 0o7777).toString(8).padStart(4, '0')}): chmod o-w`;
  return undefined;
}

function entriesOf(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return []; // what cannot be listed is named by the verification that reads it
  }
}

/** Problems of the entries of `dir` (and of the torn tails kept in its torn/ folder). */
function exposedEntries(dir: string, into: string[]): void {
  for (const name of entriesOf(dir)) {
    const path = join(dir, name);
    let stat: Stats;
    try {
      stat = lstatSync(path);
    } catch {
      continue; // gone since it was listed (a stale lock set aside)
    }
    const problem = problemOf(path, stat);
    if (problem) into.push(problem);
    else if (name === TORN_DIR && stat.isDirectory()) exposedEntries(path, into);
  }
}

/** Refuses (AuditUnavailableError naming the path and its `setting`) an audit directory others may change under
 * the writer; one not there yet is the writer's to create (0700). */
export function refuseExposedDirectory(dir: string, setting = 'audit.dir'): void {
  const problems: string[] = [];
  let stat: Stats;
  try {
    stat = statSync(dir); // the directory itself may be reached through a link
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new AuditUnavailableError(`cannot use audit directory ${dir}: ${code ?? (err as Error).message}`);
  }
  const own = problemOf(dir, stat);
  if (own) problems.push(own);
  exposedEntries(dir, problems);
  if (problems.length)
    throw new AuditUnavailableError(`audit log refused (${setting} ${dir}): ${problems.slice(0, 5).join('; ')}`);
}

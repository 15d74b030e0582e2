// A retired segment moved into audit.archive_dir (./retention.ts), for operators who ship old segments to cold
// storage rather than delete them.
import { copyFileSync, existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { syncDirSync, syncPathSync } from './segments.ts';

/** Moves `name` from `dir` into `archiveDir` (same name), never over another file: every log names its segments
 * alike, so a name taken there is another log's segment (an archive shared by mistake), kept, and this one stays
 * where it is (the pass fails, logged, and is tried again); one holding this very segment (a move a crash cut
 * short) completes. Across volumes a synced copy is renamed into place, then the original goes. */
export function archiveSegment(dir: string, archiveDir: string, name: string): void {
  const from = join(dir, name);
  const to = join(archiveDir, name);
  if (existsSync(to)) {
    if (!readFileSync(to).equals(readFileSync(from)))
      throw new Error(
        `${to} exists and holds another segment: another log archives into ${archiveDir} (each log needs its own audit.archive_dir)`,
      );
    unlinkSync(from);
    return;
  }
  try {
    renameSync(from, to);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
  }
  const temp = `${to}.tmp`;
  copyFileSync(from, temp);
  syncPathSync(temp);
  renameSync(temp, to);
  syncDirSync(archiveDir);
  unlinkSync(from);
}

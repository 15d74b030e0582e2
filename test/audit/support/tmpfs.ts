// A small real filesystem for the audit log (a tmpfs), to run it into its free-space floor or ENOSPC.
// Mounting needs root (or CAP_SYS_ADMIN): without it the tests that need one are skipped, saying why.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  mountPoint: string;
  /** test, or test.skip when no tmpfs could be mounted */
  test: typeof test;
  /** appended to a test's name: why it was skipped, or nothing */
  skipped: string;
}

/** Mounts a tmpfs of `size` (mount's notation: 1m, 4m) for the tests of this file; unmounted after all. */
export function useTmpfs(size: string): Tmpfs {
  const mountPoint = mkdtempSync(join(tmpdir(), 'vpm-audit-volume-'));
  let mounted = false;
  let why = '';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mountPoint], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    why = `cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): ${String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim()}`;
  }
  afterAll(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  return { mountPoint, test: mounted ? test : test.skip, skipped: mounted ? '' : ` (skipped: ${why})` };
}

// `vpm-gateway audit ...` as a child process with a small heap, and the peak resident memory it reached:
// what a reader or a repair holds at once, Buffers included (see peak-rss-preload.ts).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, NODE, root } from '../../ops/processes.ts';

const PRELOAD = join(import.meta.dirname, 'peak-rss-preload.ts');
export const MiB = 2 ** 20;

export interface MeasuredRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** peak resident memory of the process, bytes */
  peak: number;
}

export function auditWithPeakRss(heapMb: number, ...args: string[]): MeasuredRun {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-rss-'));
  const file = join(dir, 'peak');
  try {
    const run = spawnSync(NODE, [`--max-old-space-size=${heapMb}`, '--import', PRELOAD, MAIN, 'audit', ...args], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
      env: { ...process.env, VPM_TEST_PEAK_RSS_FILE: file },
    });
    let peak = Number.NaN;
    try {
      peak = Number(readFileSync(file, 'utf8'));
    } catch {
      // the process died before its exit handler ran (out of memory): no measure, the status says why
    }
    return { status: run.status, stdout: run.stdout, stderr: run.stderr, peak };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

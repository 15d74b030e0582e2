// What the tamper evidence tests share: one real log written entry by entry (35 entries over several
// segments, a checkpoint every 5), its checkpoint key, and the ways to alter a copy of it and verify.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { loadCheckpointPublicKey, type CheckpointVerifier } from '../../src/audit/keys.ts';
import { scanLog, type Problem } from '../../src/audit/scan.ts';
import { loginEvents, testLog, type TestLog } from './helpers.ts';

/** the log, its public checkpoint key and its segment files: set by useTamperedLog()'s beforeAll */
export const written = {} as { t: TestLog; key: CheckpointVerifier; segments: string[] };

/** Registers the writing of the log before all tests of the current file. */
export function useTamperedLog(): void {
  beforeAll(async () => {
    const t = testLog({ checkpoint_every: 5, segment_max_bytes: 4096 });
    const log = await t.open();
    for (let n = 0; n < 5; n++) for (const e of loginEvents(n)) await log.record(e); // one at a time: many checkpoints
    await log.close();
    written.t = t;
    written.key = await loadCheckpointPublicKey(t.publicKey);
    written.segments = readdirSync(t.dir)
      .filter((f) => f.startsWith('segment-'))
      .sort();
  });
}

export function lineStarts(buf: Buffer): number[] {
  const starts = [0];
  for (let i = 0; i < buf.length - 1; i++) if (buf[i] === 0x0a) starts.push(i + 1);
  return starts;
}

export async function firstProblem(dir: string, signatures: 'all' | 'latest' = 'all'): Promise<Problem | undefined> {
  return (await scanLog(dir, { key: written.key, signatures })).problems[0];
}

/** Apply `mutate` to one file of a scratch copy, verify, then restore the file. */
export async function problemAfter(
  dir: string,
  file: string,
  mutate: (buf: Buffer) => Buffer,
): Promise<Problem | undefined> {
  const path = join(dir, file);
  const original = readFileSync(path);
  writeFileSync(path, mutate(Buffer.from(original)));
  try {
    // entry mutations cannot touch a signature: checking only the latest keeps the exhaustive loops fast
    return await firstProblem(dir, file === CHECKPOINTS_FILE ? 'all' : 'latest');
  } finally {
    writeFileSync(path, original);
  }
}

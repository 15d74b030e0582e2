// A repair keeps the torn bytes (torn/<file>.<offset>.torn) before it cuts them off the log: the copy must
// be on disk, and so must the directory entries that lead to it (torn/ in the log directory, the copy in
// torn/), before the truncation, or a power cut right after could leave the file cut and its copy gone. A
// power cut cannot be staged here: the test reads the system calls of a real `audit repair` (strace) and
// checks their order. Skipped, saying why, where strace is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, NODE, root } from '../ops/processes.ts';
import { configFile, loginEvents, testLog } from './helpers.ts';

let strace = '';
try {
  strace = execFileSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).trim();
} catch {
  // not installed
}
const withStrace = strace ? test : test.skip;

const escaped = (path: string) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const openedAt = (path: string) => new RegExp(`openat\\(AT_FDCWD, "${escaped(path)}", [^)]*\\)\\s+= (\\d+)$`);

/** The system calls of a run, one per line, in the order strace saw them begin. */
class Trace {
  readonly calls: string[];
  constructor(file: string) {
    this.calls = readFileSync(file, 'utf8').split('\n');
  }

  lineOf(pattern: RegExp): number {
    return this.calls.findIndex((line) => pattern.test(line));
  }

  /** whether `path` was opened and that descriptor synced after line `after` and before line `before` */
  syncedBetween(path: string, after: number, before: number): boolean {
    return this.calls.some((line, i) => {
      const fd = openedAt(path).exec(line)?.[1];
      if (!fd || i >= before) return false;
      for (let j = i + 1; j < before; j++) {
        const call = this.calls[j]!;
        if (call.includes('openat(') && call.endsWith(`= ${fd}`)) return false; // closed, its number reused
        if (j > after && new RegExp(`f(data)?sync\\(${fd}\\)`).test(call)) return true;
      }
      return false;
    });
  }
}

withStrace(
  `the copy and the directories holding it are synced before the torn tail is cut${strace ? '' : ' (skipped: strace not installed)'}`,
  async () => {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1)) await log.record(e);
    await log.close();
    const segment = readdirSync(t.dir).find((n) => n.startsWith('segment-'))!;
    const offset = readFileSync(join(t.dir, segment)).length;
    appendFileSync(join(t.dir, segment), '{"leaf":"abc');
    const config = configFile(t);
    const file = join(mkdtempSync(join(tmpdir(), 'vpm-strace-')), 'repair.trace');
    const traced = 'trace=openat,fsync,fdatasync,ftruncate,mkdir,mkdirat';
    const run = spawnSync(strace, ['-f', '-e', traced, '-o', file, NODE, MAIN, 'audit', 'repair', '--config', config], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.stderr).not.toContain('REFUSED');
    expect(run.status).toBe(0);

    const trace = new Trace(file);
    const tornDir = join(t.dir, 'torn');
    const copy = join(tornDir, `${segment}.${offset}.torn`);
    const cut = trace.lineOf(/ftruncate\(/);
    const made = trace.lineOf(new RegExp(`mkdir(at)?\\(.*"${escaped(tornDir)}"`));
    const written = trace.lineOf(openedAt(copy));
    expect(Math.min(cut, made, written)).toBeGreaterThan(-1);
    expect({
      copy: trace.syncedBetween(copy, written, cut),
      'torn/ after the copy was made in it': trace.syncedBetween(tornDir, written, cut),
      'the log directory after torn/ was made in it': trace.syncedBetween(t.dir, made, cut),
    }).toEqual({
      copy: true,
      'torn/ after the copy was made in it': true,
      'the log directory after torn/ was made in it': true,
    });
  },
);

// What one durable append costs the audit log's writer: a write followed by fdatasync (two thread-pool
// jobs) against a write to a file opened with O_DSYNC (one, what src/audit/segments.ts does). Each round
// runs both, each in its own process, one after the other, appending sequentially (one producer: a
// durable write per entry, as a lone login step waits for). The file lives in TMPDIR (set it to measure
// another disk).
//   node bench/durable-write.ts [--rounds 3] [--appends 2000] [--bytes 900]
import { fork } from 'node:child_process';
import { constants, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOptions } from './args.ts';

const MODES = ['write + fdatasync', 'O_DSYNC write'] as const;
type Mode = (typeof MODES)[number];

async function appendAll(mode: Mode, path: string, appends: number, bytes: number) {
  const dsync = mode === 'O_DSYNC write' ? constants.O_DSYNC : 0;
  const file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | dsync, 0o644);
  const buf = Buffer.alloc(bytes, 'x');
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < appends; i++) {
    await file.write(buf, 0, buf.length);
    if (!dsync) await file.datasync();
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  await file.close();
  return { msPerAppend: ms / appends, cpuMicrosPerAppend: (used.user + used.system) / appends };
}

if (process.argv[2] === '--child') {
  const [, , , mode, path, appends, bytes] = process.argv;
  process.send!(await appendAll(mode as Mode, path!, Number(appends), Number(bytes)));
  process.exit(0);
}

const { values } = benchOptions(
  {
    rounds: { type: 'string', default: '3' },
    appends: { type: 'string', default: '2000' },
    bytes: { type: 'string', default: '900' },
  },
  'usage: node bench/durable-write.ts [--rounds 3] [--appends 2000] [--bytes 900]\n' +
    '  one durable append: write + fdatasync against an O_DSYNC write, each in its own process per round\n',
);
const dir = mkdtempSync(join(tmpdir(), 'vpm-durable-write-'));
const results = new Map<Mode, { ms: number[]; cpu: number[] }>(MODES.map((m) => [m, { ms: [], cpu: [] }]));
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of MODES) {
    const path = join(dir, `round-${round}-${mode.replace(/\W+/g, '-')}`);
    const child = fork(new URL(import.meta.url).pathname, ['--child', mode, path, values.appends!, values.bytes!], {
      execArgv: process.execArgv,
    });
    const r = await new Promise<{ msPerAppend: number; cpuMicrosPerAppend: number }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { msPerAppend: number; cpuMicrosPerAppend: number }));
      child.once('exit', (code) => code && reject(new Error(`${mode} exited with ${code}`)));
    });
    results.get(mode)!.ms.push(r.msPerAppend);
    results.get(mode)!.cpu.push(r.cpuMicrosPerAppend);
  }
}
rmSync(dir, { recursive: true, force: true });
const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(' / ');
console.log(`${values.appends} sequential appends of ${values.bytes} bytes, per round`);
console.log('| durable append | ms per append | CPU us per append |');
console.log('|---|---|---|');
for (const [mode, r] of results) console.log(`| ${mode} | ${list(r.ms, 3)} | ${list(r.cpu, 0)} |`);

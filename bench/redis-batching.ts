// What a Redis command costs the gateway's process, by how commands are batched: the store as the gateway
// runs it (src/store/redis.ts: a turn's commands corked into one socket write), ioredis's auto-pipelining
// (a Pipeline object per turn) and no batching at all. Each client runs in a process of its own against one
// private redis-server, rounds alternating: 16 callers each awaiting a GET of a 1.5 KB value in a loop (the
// size of an engine model), as a gateway's concurrent requests do.
// Run: node bench/redis-batching.ts [--rounds 3] [--seconds 4]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { benchOptions } from './args.ts';
import { Redis } from 'ioredis';
import { RedisStore } from '../src/store/redis.ts';
import { startRedis } from './processes.ts';

const MODES = ['store (corked turns)', 'ioredis auto-pipelining', 'ioredis unbatched'] as const;
type Mode = (typeof MODES)[number];
interface Result {
  commands: number;
  cpuMicros: number;
  minorGcs: number;
  majorGcs: number;
}
const CALLERS = 16;
const KEY = 'bench:batching';

async function child(mode: Mode, url: string, seconds: number): Promise<Result> {
  const gcs = { minor: 0, major: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor += 1;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gcs.major += 1;
    }
  }).observe({ entryTypes: ['gc'] });
  let get: () => Promise<unknown>;
  let close: () => Promise<unknown>;
  if (mode === 'store (corked turns)') {
    const store = new RedisStore({ url, prefix: '' });
    get = () => store.get(KEY);
    close = () => store.close();
  } else {
    const client = new Redis(url, { enableAutoPipelining: mode === 'ioredis auto-pipelining', commandTimeout: 2000 });
    get = () => client.get(KEY);
    close = () => client.quit();
  }
  await get(); // connected, scripts aside
  let commands = 0;
  const end = Date.now() + seconds * 1000;
  const start = process.cpuUsage();
  const caller = async () => {
    while (Date.now() < end) {
      await get();
      commands += 1;
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const used = process.cpuUsage(start);
  await close();
  return { commands, cpuMicros: used.user + used.system, minorGcs: gcs.minor, majorGcs: gcs.major };
}

if (process.argv[2] === '--child') {
  const [, , , mode, url, seconds] = process.argv;
  const result = await child(mode as Mode, url!, Number(seconds));
  process.send!(result, () => process.exit(0));
} else {
  const { values } = benchOptions(
    { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '4' } },
    'usage: node bench/redis-batching.ts [--rounds 3] [--seconds 4]\n' +
      '  a Redis command from the store (corked turns), ioredis auto-pipelining and unbatched ioredis\n',
  );
  const dir = mkdtempSync(join(tmpdir(), 'vpm-batching-bench-'));
  const redis = await startRedis(dir);
  await redis.client.set(KEY, 'x'.repeat(1500));
  const rows = new Map<Mode, (Result & { reads: number })[]>(MODES.map((m) => [m, []]));
  try {
    for (let round = 0; round < Number(values.rounds); round += 1) {
      for (const mode of MODES) {
        const before = await redis.stats();
        const proc = fork(new URL(import.meta.url).pathname, ['--child', mode, redis.url, values.seconds], {
          execArgv: ['--no-warnings=ExperimentalWarning'],
        });
        const result = await new Promise<Result>((resolve, reject) => {
          proc.once('message', (m) => resolve(m as Result));
          proc.once('exit', (code) => reject(new Error(`${mode} exited ${code}`)));
        });
        const after = await redis.stats();
        // a connection's handshake and the two INFOs are a handful of reads against hundreds of thousands
        rows.get(mode)!.push({ ...result, reads: after.reads - before.reads });
      }
    }
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`node bench/redis-batching.ts --rounds ${values.rounds} --seconds ${values.seconds}`);
  console.log(`${new Date().toISOString()}, node ${process.version}; medians over rounds\n`);
  console.log('| client | commands/s | CPU us/command | Redis reads/command | minor GCs/10k | major GCs/10k |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [mode, rs] of rows) {
    const per10k = (f: (r: Result) => number) => median(rs.map((r) => (f(r) * 10000) / r.commands)).toFixed(2);
    console.log(
      `| ${mode} | ${median(rs.map((r) => r.commands / Number(values.seconds))).toFixed(0)} | ${median(
        rs.map((r) => r.cpuMicros / r.commands),
      ).toFixed(
        1,
      )} | ${median(rs.map((r) => r.reads / r.commands)).toFixed(3)} | ${per10k((r) => r.minorGcs)} | ${per10k(
        (r) => r.majorGcs,
      )} |`,
    );
  }
}

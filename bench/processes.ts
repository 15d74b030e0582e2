// The processes of `npm run bench`: each started with the CPU probe preloaded (bench/cpu-probe.ts) and an
// IPC channel, asked for its own CPU time at the edges of each measured round. A private redis-server
// (no persistence) so the commands, reads and bytes it reports are the measured gateway's alone.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../test/support/free-port.ts';

export const PROBE = new URL('./cpu-probe.ts', import.meta.url).pathname;

export interface Probed {
  name: string;
  child: ChildProcess;
  /** CPU microseconds of the process (and its cluster workers) so far, and its counters */
  cpu(): Promise<{ cpuMicros: number; processes: number; counts: Record<string, number> }>;
  stop(): Promise<void>;
}

let asked = 0;

/** every process started here and still running: stopped all at once when the bench is interrupted */
export const running = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Fork a node script with the probe; resolves with its first `{bench: 'ready'}` message. */
export async function startNode(
  name: string,
  script: string,
  args: string[],
  logDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ probed: Probed; ready: Record<string, unknown> }> {
  const log = createWriteStream(join(logDir, `${name}.log`));
  const child = track(
    fork(script, args, {
      execArgv: ['--import', PROBE, '--no-warnings=ExperimentalWarning'],
      env: { ...process.env, VPM_BENCH_COUNT: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${name} exited (${code}); see ${join(logDir, `${name}.log`)}`));
    child.once('exit', onExit);
    const onMessage = (m: Record<string, unknown>) => {
      if (m?.bench !== 'ready') return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    child.on('message', onMessage);
  });
  return { probed: probe(name, child), ready };
}

export function probe(name: string, child: ChildProcess): Probed {
  return {
    name,
    child,
    cpu: () =>
      new Promise((resolve) => {
        const id = ++asked;
        const onMessage = (m: Record<string, unknown>) => {
          if (m?.bench !== 'cpu' || m.id !== id) return;
          child.off('message', onMessage);
          resolve(m as never);
        };
        child.on('message', onMessage);
        child.send({ bench: 'cpu?', id });
      }),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** The gateway as an operator runs it: `node src/cli/main.ts start --config FILE [--workers N]`; ready once /readyz says so. */
export async function startGateway(
  name: string,
  configFile: string,
  issuer: string,
  logDir: string,
  workers?: number,
  /** extra node options, e.g. --cpu-prof --cpu-prof-dir DIR */
  nodeOptions: string[] = [],
  /** another checkout to run the gateway from (a baseline measured in the same run) */
  checkout?: string,
): Promise<Probed> {
  const log = createWriteStream(join(logDir, `${name}.log`));
  const args = ['start', '--config', configFile, ...(workers ? ['--workers', String(workers)] : [])];
  const main = checkout ? join(checkout, 'src/cli/main.ts') : new URL('../src/cli/main.ts', import.meta.url).pathname;
  const child = track(
    fork(main, args, {
      execArgv: ['--import', PROBE, '--no-warnings=ExperimentalWarning', ...nodeOptions],
      env: { ...process.env, VPM_BENCH_COUNT: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  for (let i = 0; i < 600; i += 1) {
    if (exited !== undefined) throw new Error(`${name} exited (${exited}); see ${join(logDir, `${name}.log`)}`);
    const ok = await fetch(`${issuer}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return probe(name, child);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`${name} not ready after 60 s; see ${join(logDir, `${name}.log`)}`);
}

export interface PrivateRedis {
  url: string;
  client: Redis;
  /** INFO stats counters: commands processed and read events (a pipelined batch is one read) */
  stats(): Promise<{ commands: number; reads: number }>;
  /** bytes held by the keys under `prefix` (MEMORY USAGE of each) */
  bytes(prefix: string): Promise<{ bytes: number; keys: number }>;
  stop(): Promise<void>;
}

export async function startRedis(dir: string): Promise<PrivateRedis> {
  const port = await freePort();
  const child = track(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    ),
  );
  const url = `redis://127.0.0.1:${port}`;
  // redis-server takes a moment to listen: connection errors until then are retried
  const client = new Redis(url, { retryStrategy: (n) => (n > 50 ? null : 100), maxRetriesPerRequest: 50 });
  client.on('error', () => {});
  await client.ping();
  const stat = (info: string, field: string) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
  return {
    url,
    client,
    // the bench's own INFO is one command and one read; the caller takes stats() right before and right
    // after a round and bytes() outside that span, so the SCANs are not counted against the gateway
    async stats() {
      const info = await client.info('stats');
      return { commands: stat(info, 'total_commands_processed'), reads: stat(info, 'total_reads_processed') };
    },
    async bytes(prefix) {
      let bytes = 0;
      let keys = 0;
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        const sizes = await Promise.all(batch.map((k) => client.memory('USAGE', k, 'SAMPLES', 0)));
        for (const size of sizes) bytes += Number(size ?? 0);
        keys += batch.length;
      } while (cursor !== '0');
      return { bytes, keys };
    },
    async stop() {
      client.disconnect();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}

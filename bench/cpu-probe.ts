// Loaded with `node --import ./bench/cpu-probe.ts` into every process `npm run bench` starts (the gateway,
// its cluster workers, the floor, the test bank): answers the bench's IPC question with the process's own
// CPU time (process.cpuUsage(): every thread, GC and the crypto thread pool included). A cluster primary
// adds its workers' answers, so `--workers N` is measured as one gateway.
// With VPM_BENCH_STEPS=1 it also sums the CPU time of each HTTP request by step (method and path with ids
// left out): meaningful with one virtual user, whose requests never overlap.
// With VPM_BENCH_COUNT=1 it also counts, per process, what a login costs beyond CPU: durable writes
// (the audit log's O_DSYNC writes, and any fdatasync/fsync calls) and asymmetric signatures and verifications (node:crypto and WebCrypto).
import cluster from 'node:cluster';
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { constants } from 'node:fs';

interface CpuAnswer {
  bench: 'cpu';
  id: number;
  pid: number;
  processes: number;
  cpuMicros: number;
  counts: Record<string, number>;
}

const counts: Record<string, number> = {};
const bump = (what: string) => {
  counts[what] = (counts[what] ?? 0) + 1;
};

if (process.env.VPM_BENCH_COUNT === '1') {
  const require = createRequire(import.meta.url);
  const crypto = require('node:crypto') as Record<string, unknown> & { webcrypto: { subtle: object } };
  for (const name of ['sign', 'verify', 'createSign', 'createVerify', 'createHmac'] as const) {
    const original = crypto[name] as (...args: unknown[]) => unknown;
    crypto[name] = function counted(this: unknown, ...args: unknown[]) {
      bump(name);
      return original.apply(this, args);
    };
  }
  const subtle = crypto.webcrypto.subtle as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['sign', 'verify'] as const) {
    const original = subtle[name]!.bind(subtle);
    subtle[name] = (...args: unknown[]) => {
      const alg = args[0] as string | { name?: string };
      bump(`subtle.${name}.${typeof alg === 'string' ? alg : alg?.name}`);
      return original(...args);
    };
  }
  // a durable write is a write on a file opened with O_DSYNC (the audit log's), or a datasync/sync
  const fsPromises = require('node:fs/promises') as { open: (...args: unknown[]) => Promise<object> };
  const originalOpen = fsPromises.open;
  const dsync = new WeakSet<object>();
  fsPromises.open = async (...args: unknown[]) => {
    const handle = await originalOpen(...args);
    if (typeof args[1] === 'number' && args[1] & constants.O_DSYNC) dsync.add(handle);
    return handle;
  };
  syncBuiltinESMExports();
  // FileHandle is not exported: reach its prototype through a handle
  const handle = await originalOpen(process.execPath, 'r');
  const proto = Object.getPrototypeOf(handle) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await (handle as { close(): Promise<void> }).close();
  for (const name of ['datasync', 'sync', 'write'] as const) {
    const original = proto[name]!;
    proto[name] = function counted(this: object, ...args: unknown[]) {
      if (name !== 'write') bump(`fs.${name}`);
      else if (dsync.has(this)) bump('fs.dsync-write');
      return original.apply(this, args);
    };
  }
}

if (process.env.VPM_BENCH_STEPS === '1') {
  const emit = Server.prototype.emit;
  Server.prototype.emit = function timed(this: Server, event: string, ...args: unknown[]) {
    if (event === 'request') {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      const step = `${req.method} ${(req.url ?? '').split('?')[0]!.replace(/\/[A-Za-z0-9_-]{16,}/g, '/:id')}`;
      const start = process.cpuUsage();
      res.once('finish', () => {
        const { user, system } = process.cpuUsage(start);
        counts[`step ${step}`] = (counts[`step ${step}`] ?? 0) + user + system;
      });
    }
    return (emit as (this: Server, event: string, ...rest: unknown[]) => boolean).call(this, event, ...args);
  } as typeof Server.prototype.emit;
}

const own = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

function workersCpu(id: number): Promise<{ cpuMicros: number; processes: number; counts: Record<string, number> }> {
  const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
  if (!workers.length) return Promise.resolve({ cpuMicros: 0, processes: 0, counts: {} });
  return new Promise((resolve) => {
    let pending = workers.length;
    const sum = { cpuMicros: 0, processes: 0, counts: {} as Record<string, number> };
    for (const worker of workers) {
      const listener = (message: unknown) => {
        const m = message as Partial<CpuAnswer>;
        if (m?.bench !== 'cpu' || m.id !== id) return;
        worker!.off('message', listener);
        sum.cpuMicros += m.cpuMicros ?? 0;
        sum.processes += 1;
        for (const [k, v] of Object.entries(m.counts ?? {})) sum.counts[k] = (sum.counts[k] ?? 0) + v;
        if (--pending === 0) resolve(sum);
      };
      worker!.on('message', listener);
      worker!.send({ bench: 'cpu?', id });
    }
  });
}

if (process.send) {
  process.on('message', (message: unknown) => {
    const m = message as { bench?: string; id?: number };
    if (m?.bench !== 'cpu?' || typeof m.id !== 'number') return;
    const id = m.id;
    void (
      cluster.isPrimary
        ? workersCpu(id)
        : Promise.resolve({ cpuMicros: 0, processes: 0, counts: {} as Record<string, number> })
    ).then((workers) => {
      const total = { ...counts };
      for (const [k, v] of Object.entries(workers.counts)) total[k] = (total[k] ?? 0) + v;
      const answer: CpuAnswer = {
        bench: 'cpu',
        id,
        pid: process.pid,
        processes: 1 + workers.processes,
        cpuMicros: own() + workers.cpuMicros,
        counts: total,
      };
      process.send!(answer);
    });
  });
  // the IPC channel must not keep a process alive that would otherwise exit
  process.channel?.unref();
}

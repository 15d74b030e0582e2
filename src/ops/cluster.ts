// `start --workers N`: a primary process forks N workers (node:cluster) that share the listening port(s)
// and the store; the primary serves no login itself. Worker 1 starts alone first, so whatever a first
// start generates (token signing keys, audit keys, demo key material) is created once; the others follow.
// A worker that dies is started again under its number, so with its own audit log, after a backoff that
// doubles with each failure in a row. SIGTERM/SIGINT: every worker drains and checkpoints its log, then
// the primary exits. With `metrics`, the primary serves the scrape: the workers' registries summed, those
// of workers that died included (./cluster-metrics.ts).
import cluster, { type Worker } from 'node:cluster';
import type http from 'node:http';
import type { GatewayConfig } from '../config/load.ts';
import { createLogger } from '../logger.ts';
import type { Listening } from './instance.ts';
import { ClusterMetrics } from './cluster-metrics.ts';
import { listenMetrics } from './metered.ts';
import { drain } from './shutdown.ts';

/** The message a worker sends its primary once it listens. */
export const LISTENING_MESSAGE = 'vpm:listening';

/** first restart delay; doubled for each failure in a row, at most BACKOFF_MAX_MS */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** a worker that ran this long before it died starts its backoff afresh */
const STABLE_MS = 60_000;

/** How long to wait before starting a worker again after `failures` failures in a row. */
export function restartDelay(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** failures);
}

export interface PrimaryOptions {
  config: GatewayConfig;
  workers: number;
  /** what each worker runs: the program and its arguments (`start ...`) */
  exec: string;
  args: string[];
  listening(info: Listening & { workers: number }): void;
  refused(message: string): void;
  exit(code: number): void;
}

interface Slot {
  n: number;
  worker?: Worker | undefined;
  failures: number;
  forkedAt: number;
  listening: boolean;
  timer?: NodeJS.Timeout | undefined;
}

/** Runs the workers until a signal stops them; false when they could not all start (the cause was reported). */
export async function runPrimary(options: PrimaryOptions): Promise<boolean> {
  const { config } = options;
  const logger = createLogger(config.log_level).child({ role: 'primary' });
  cluster.setupPrimary({ exec: options.exec, args: options.args });
  const slots: Slot[] = Array.from({ length: options.workers }, (_, i) => ({
    n: i + 1,
    failures: 0,
    forkedAt: 0,
    listening: false,
  }));
  let stopping = false;
  let started = false;
  let metricsServer: http.Server | undefined;
  // the scrape asks the workers that listen; what a dead one counted stays in the sums (./cluster-metrics.ts)
  const metrics = new ClusterMetrics(() =>
    slots.flatMap((slot) => (slot.worker && slot.listening ? [{ n: slot.n, worker: slot.worker }] : [])),
  );

  const restart = (slot: Slot, code: number | null, signal: string | null) => {
    if (Date.now() - slot.forkedAt >= STABLE_MS) slot.failures = 0;
    const delay = restartDelay(slot.failures);
    slot.failures += 1;
    logger.error('worker exited; restarting it', { worker: slot.n, code, signal, restart_in_ms: delay });
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      if (!stopping) void fork(slot);
    }, delay);
  };

  const fork = (slot: Slot): Promise<Listening | undefined> =>
    new Promise((resolve) => {
      const worker = cluster.fork({ VPM_WORKER: String(slot.n) });
      slot.worker = worker;
      slot.forkedAt = Date.now();
      slot.listening = false;
      worker.on('message', (message: { type?: string; info?: Listening }) => {
        if (message?.type !== LISTENING_MESSAGE || !message.info) return;
        slot.listening = true;
        logger.info('worker listening', { worker: slot.n, pid: worker.process.pid, port: message.info.port });
        resolve(message.info);
      });
      worker.once('exit', (code, signal) => {
        slot.worker = undefined;
        metrics.retire(slot.n);
        resolve(undefined);
        // one that had listened is restarted even while others still start; one that never did is a
        // failed start-up (handled by the caller) until the instance is up
        if (!stopping && (started || slot.listening)) restart(slot, code, signal);
      });
    });

  const stopWorkers = async (): Promise<boolean> => {
    for (const slot of slots) clearTimeout(slot.timer);
    const live = slots.filter((slot) => slot.worker);
    const codes = live.map(
      ({ worker, listening }) =>
        new Promise<boolean>((ok) => {
          // a worker still starting has no handler yet: the signal ends it before it served anything
          const clean = (code: number | null, signal: string | null) =>
            code === 0 || (!listening && signal === 'SIGTERM');
          if (worker!.process.exitCode !== null || worker!.process.signalCode !== null)
            ok(clean(worker!.process.exitCode, worker!.process.signalCode));
          else worker!.once('exit', (code, signal) => ok(clean(code, signal)));
        }),
    );
    for (const { worker } of live) worker!.process.kill('SIGTERM');
    return (await Promise.all(codes)).every(Boolean);
  };

  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, workers: slots.filter((s) => s.worker).length });
    const clean = await stopWorkers();
    await drain(metricsServer ? [metricsServer] : [], 1000);
    logger.info('gateway stopped', { signal });
    options.exit(clean ? 0 : 1);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const abort = async (n: number) => {
    stopping = true;
    await stopWorkers();
    options.refused(`worker ${n} stopped before it listened (see its message above); stopping`);
    return false;
  };
  const first = await fork(slots[0]!);
  if (stopping) return true;
  if (!first) return abort(1);
  const rest = await Promise.all(slots.slice(1).map(fork));
  if (stopping) return true;
  const failed = rest.findIndex((info) => !info);
  if (failed >= 0) return abort(failed + 2);
  started = true;
  if (config.metrics) {
    try {
      metricsServer = await listenMetrics(metrics, config.metrics);
    } catch (err) {
      // metrics.port in use: the workers stop (checkpointing their audit logs) and the start fails
      stopping = true;
      await stopWorkers();
      options.refused(`vpm-gateway: ${(err as Error).message}`);
      return false;
    }
  }
  const address = metricsServer?.address();
  const metricsPort = typeof address === 'object' && address ? address.port : undefined;
  logger.info('workers started', { workers: options.workers, port: first.port, metrics_port: metricsPort });
  options.listening({ ...first, metrics_port: metricsPort, workers: options.workers });
  return true;
}

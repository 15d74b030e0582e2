// Where the metrics are taken: around the audit log and the store (decorators that change nothing they
// pass on), on the HTTP app (step latency), and the listener that serves the scrape.
import http from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { AuditEvent, AuditLog } from '../audit/events.ts';
import { ProviderError, type ProviderAdapter } from '../broker/adapter.ts';
import type { Store } from '../store/store.ts';
import { bind } from '../tls/listeners.ts';
import { type GatewayMetrics, stepOf } from './metrics.ts';

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** The audit log, timing each append and counting what its events say about logins. */
export function meteredAudit(audit: AuditLog, metrics: GatewayMetrics): AuditLog {
  let last = audit.status?.();
  const batches = () => {
    const now = audit.status?.();
    if (!now || !last) return;
    const writes = now.writes - last.writes;
    // entries per write since the last look: one observation per write
    if (writes > 0) {
      const size = (now.entries - last.entries) / writes;
      for (let i = 0; i < writes; i++) metrics.auditBatchSize.observe(size);
    }
    last = now;
  };
  return {
    async record(event: AuditEvent) {
      const start = process.hrtime.bigint();
      await audit.record(event);
      metrics.auditAppendSeconds.observe(seconds(start));
      batches();
      metrics.observeEvent(event);
    },
    close: () => audit.close(),
    ...(audit.status ? { status: () => audit.status!() } : {}),
    ...(audit.latestCheckpoint ? { latestCheckpoint: () => audit.latestCheckpoint!() } : {}),
  };
}

/** The store, timing each operation. */
export function meteredStore(store: Store, metrics: GatewayMetrics): Store {
  const timed =
    <A extends unknown[], R>(op: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.storeSeconds.startTimer({ op });
      try {
        return await fn(...args);
      } finally {
        end();
      }
    };
  return {
    get: timed('get', (k) => store.get(k)),
    set: timed('set', (k, v, t) => store.set(k, v, t)),
    swap: timed('swap', (k, v, t) => store.swap(k, v, t)),
    replace: timed('replace', (k, v) => store.replace(k, v)),
    setIfAbsent: timed('setIfAbsent', (k, v, t) => store.setIfAbsent(k, v, t)),
    compareAndSet: timed('compareAndSet', (k, e, v, t) => store.compareAndSet(k, e, v, t)),
    compareAndDelete: timed('compareAndDelete', (k, e) => store.compareAndDelete(k, e)),
    take: timed('take', (k) => store.take(k)),
    takeAndMark: timed('takeAndMark', (k, m) => store.takeAndMark(k, m)),
    delete: timed('delete', (...k: string[]) => store.delete(...k)),
    increment: timed('increment', (k, t) => store.increment(k, t)),
    ttl: timed('ttl', (k) => store.ttl(k)),
    close: () => store.close(),
  };
}

/** The adapter, timing its start and callback (and with them its back-channel calls) by outcome. */
export function meteredAdapter<D>(adapter: ProviderAdapter<D>, metrics: GatewayMetrics): ProviderAdapter<D> {
  const provider = metrics.provider(adapter.id);
  const timed =
    <C, R>(step: 'start' | 'callback', fn: (ctx: C) => Promise<R>) =>
    async (ctx: C): Promise<R> => {
      const end = metrics.upstreamSeconds.startTimer({ provider, step });
      try {
        const result = await fn(ctx);
        end({ outcome: 'ok' });
        return result;
      } catch (err) {
        end({ outcome: err instanceof ProviderError ? metrics.reason(err.code) : 'server_error' });
        throw err;
      }
    };
  const start = timed('start', adapter.start.bind(adapter));
  const callback = timed('callback', adapter.callback.bind(adapter));
  return new Proxy(adapter, {
    get(target, name) {
      if (name === 'start') return start;
      if (name === 'callback') return callback;
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Express middleware: the time to answer each login step, by step, provider (callbacks) and status class. */
export function stepTimer(metrics: GatewayMetrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const step = stepOf(req.method, req.path);
    if (!step) return next();
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      const chosen = step.step === 'start' ? (req.body as Record<string, unknown> | undefined)?.provider : undefined;
      const provider = metrics.provider(step.provider ?? chosen);
      const status = `${Math.floor(res.statusCode / 100)}xx`;
      metrics.stepSeconds.observe({ step: step.step, provider, status }, seconds(start));
    });
    next();
  };
}

export interface MetricsListenerConfig {
  port: number;
  host: string;
  path: string;
}

/** What the scrape serves: one gateway's registry, or the sum over a primary's workers. */
export interface MetricsSource {
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** The scrape listener: plain HTTP on its own address, serving only `path`. */
export async function listenMetrics(metrics: MetricsSource, config: MetricsListenerConfig): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== config.path) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await bind(server, config.port, config.host, 'another metrics.port');
  return server;
}

// The primary's scrape over its workers (src/ops/cluster-metrics.ts), with workers that answer over a fake
// IPC channel as node:cluster's do: a worker exiting in the middle of a scrape is counted once, a worker
// whose channel has closed neither stops the scrape nor lowers the sums, and a dead worker's counts stay.
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:cluster';
import { Counter, Registry } from 'prom-client';
import { ClusterMetrics } from '../../src/ops/cluster-metrics.ts';

/** A worker process as the primary sees it: answers a metrics request after `delayMs` with its counter. */
class FakeWorker extends EventEmitter {
  connected = true;
  readonly registry = new Registry();
  readonly logins = new Counter({ name: 'logins_total', help: 'logins', registers: [this.registry] });
  delayMs: number;

  constructor(count: number, delayMs = 0) {
    super();
    this.logins.inc(count);
    this.delayMs = delayMs;
  }

  isConnected(): boolean {
    return this.connected;
  }

  send(message: { type: string; id: number }, callback: (err: Error | null) => void): boolean {
    if (!this.connected) {
      // what node:cluster does for a closed channel when given a callback
      setImmediate(() => callback(new Error('Channel closed')));
      return false;
    }
    setTimeout(async () => {
      if (this.connected)
        this.emit('message', { type: 'vpm:metrics', id: message.id, metrics: await this.registry.getMetricsAsJSON() });
    }, this.delayMs);
    callback(null);
    return true;
  }

  /** the process ends: its channel closes first, then it exits */
  exit(): void {
    this.connected = false;
    this.emit('exit', null, 'SIGKILL');
  }
}

function instance(workers: Map<number, FakeWorker>) {
  const metrics = new ClusterMetrics(() =>
    [...workers].map(([n, worker]) => ({ n, worker: worker as unknown as Worker })),
  );
  const logins = async () => Number(/^logins_total (\d+)$/m.exec(await metrics.scrape())?.[1]);
  /** slot n's process exits, as the primary's exit handler sees it */
  const exit = (n: number) => {
    workers.get(n)!.exit();
    workers.delete(n);
    metrics.retire(n);
  };
  return { metrics, logins, exit };
}

test('a worker exiting while the scrape waits for a slower one is counted once, then stays counted', async () => {
  const workers = new Map([
    [1, new FakeWorker(10)],
    [2, new FakeWorker(5, 200)],
  ]);
  const { logins, exit } = instance(workers);
  expect(await logins()).toBe(15);
  const during = logins();
  // worker 1 answers at once, worker 2 takes 200 ms; worker 1 dies meanwhile
  await new Promise((resolve) => setTimeout(resolve, 50));
  exit(1);
  expect(await during).toBe(15);
  expect(await logins()).toBe(15);
  // its successor starts from zero: the sums go on from there
  workers.set(1, new FakeWorker(2));
  expect(await logins()).toBe(17);
});

test('a worker whose channel has closed before its exit neither throws nor lowers the sums', async () => {
  const workers = new Map([
    [1, new FakeWorker(10)],
    [2, new FakeWorker(5)],
  ]);
  const { logins, metrics } = instance(workers);
  expect(await logins()).toBe(15);
  workers.get(2)!.connected = false; // dying: disconnected, not yet exited
  expect(await logins()).toBe(15);
  // a request that meets a closed channel is answered from the worker's last answer, with no 'error' event
  const errors: unknown[] = [];
  workers.get(1)!.on('error', (err) => errors.push(err));
  workers.get(1)!.send = (_message, callback) => {
    setImmediate(() => callback(new Error('Channel closed')));
    return false;
  };
  expect(await logins()).toBe(15);
  expect(errors).toEqual([]);
  expect(metrics.contentType).toContain('text/plain');
});

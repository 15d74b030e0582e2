// The scrape of `start --workers N`: the primary asks each worker that listens for its registry as JSON over
// the cluster's IPC channel and sums the answers (prom-client's aggregation), together with what workers
// that died had counted. prom-client's own cluster scrape asks every connected worker, and one still
// loading cannot answer: the whole scrape then failed after its 5 s timeout. And a counter summed over live
// workers only goes down when one is killed and restarted from zero, which Prometheus reads as a reset:
// `increase()` would count the dead worker's logins again. So a worker's last answer stays in the sums
// after it exits (counters and histograms: what it counted happened; its gauges were its state), and a
// listening worker that does not answer in time is summed with its last answer, never left out.
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'vpm:metrics?';
const ANSWER = 'vpm:metrics';

/** How long a scrape waits for one worker's answer before it takes that worker's last one. */
const ANSWER_TIMEOUT_MS = 2000;

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Request {
  type: typeof REQUEST;
  id: number;
}
interface Answer {
  type: typeof ANSWER;
  id: number;
  metrics?: MetricsJson;
}

/** In a worker: answer the primary's scrape requests from `registry`. */
export function answerMetricsRequests(registry: Registry): void {
  process.on('message', (message: Request) => {
    if (message?.type !== REQUEST) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: ANSWER, id: message.id, metrics } satisfies Answer),
      () => process.send?.({ type: ANSWER, id: message.id } satisfies Answer),
    );
  });
}

function ask(worker: Worker, id: number): Promise<MetricsJson | undefined> {
  return new Promise((resolve) => {
    const done = (metrics: MetricsJson | undefined) => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      resolve(metrics);
    };
    const onMessage = (message: Answer) => {
      if (message?.type === ANSWER && message.id === id) done(message.metrics);
    };
    const onExit = () => done(undefined);
    const timer = setTimeout(() => done(undefined), ANSWER_TIMEOUT_MS);
    worker.on('message', onMessage);
    worker.once('exit', onExit);
    // a worker that is dying closes its channel before it exits: with a callback a failed send is reported
    // there, where without one it is an 'error' event on the Worker that nothing would catch
    worker.send({ type: REQUEST, id } satisfies Request, (err: Error | null) => {
      if (err) done(undefined);
    });
  });
}

/** In the primary: the instance's scrape, the sum over its workers, past and present. */
export class ClusterMetrics {
  readonly contentType = AggregatorRegistry.PROMETHEUS_CONTENT_TYPE;
  /** the counters and histograms of worker processes that exited, each process's last answer */
  private retired: MetricsJson[] = [];
  private collapsing = false;
  /** each worker slot's last answer */
  private readonly last = new Map<number, MetricsJson>();
  /** how many processes of each slot have been retired: an answer from before a retirement is in `retired` */
  private readonly retirements = new Map<number, number>();
  private next = 0;
  private readonly listening: () => { n: number; worker: Worker }[];

  /** `listening`: the workers that listen now, by their slot number */
  constructor(listening: () => { n: number; worker: Worker }[]) {
    this.listening = listening;
  }

  async scrape(): Promise<string> {
    const asked = await Promise.all(
      this.listening().map(async ({ n, worker }) => {
        const retired = this.retirements.get(n) ?? 0;
        // one whose channel has closed is dying: its last answer stands until its exit retires it
        const answer = worker.isConnected() ? await ask(worker, ++this.next) : undefined;
        if (answer && (this.retirements.get(n) ?? 0) === retired) this.last.set(n, answer);
        return { n, retired, metrics: answer ?? this.last.get(n) ?? [] };
      }),
    );
    // a worker that exited while the scrape waited (for it or another) has its counts in `retired` now: once
    const answers = asked.filter(({ n, retired }) => (this.retirements.get(n) ?? 0) === retired);
    return AggregatorRegistry.aggregate([...answers.map((a) => a.metrics), ...this.retired]).metrics();
  }

  /** Slot `n`'s process exited: what it had counted by its last answer stays in the sums (at once: a scrape
   * right after the exit must not see the sums go down). */
  retire(n: number): void {
    this.retirements.set(n, (this.retirements.get(n) ?? 0) + 1);
    const last = this.last.get(n);
    this.last.delete(n);
    if (!last) return;
    this.retired.push(last.filter((metric) => ['counter', 'histogram'].includes(String(metric.type))));
    if (this.retired.length > 16 && !this.collapsing) void this.collapse();
  }

  /** A worker in a restart loop leaves an answer per exit: they are summed into one, and replaced only once
   * the sum is there, so every scrape meanwhile still counts them. */
  private async collapse(): Promise<void> {
    this.collapsing = true;
    const items = this.retired.slice();
    try {
      const merged = await AggregatorRegistry.aggregate(items).getMetricsAsJSON();
      this.retired = [merged, ...this.retired.slice(items.length)];
    } finally {
      this.collapsing = false;
    }
  }
}

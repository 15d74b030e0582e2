// Redis backend (ioredis): one server, Sentinel or Cluster (src/store/redis-connection.ts). Every key carries
// the configured prefix; every write sets its TTL in the same command or script, so no key ever lives
// without one. Needs Redis >= 7 (GETDEL, EXPIRE NX/GT). Every script touches one key only, so it stays in
// one hash slot on Cluster without hash tags; `delete` of unrelated keys is one DEL per key there.
// A failure to reach Redis is a StoreUnavailableError; a reply error that means a bug is passed on as is.
import type { Cluster, Redis } from 'ioredis';
import { assertTtl, MARKED, type Store, StoreError, StoreUnavailableError, type Taken, takenFrom } from './store.ts';
import {
  type RedisConnectionConfig,
  reconnectWhenEnded,
  redisClient,
  resetHungConnection,
} from './redis-connection.ts';
import { socketBatcher } from './redis-batching.ts';
import { parseRedisUrl, type RedisMode } from './redis-url.ts';
import { commandFailure, isAuthRefusal, isOutageReply } from './redis-failures.ts';
import { defineScripts, type WithScripts } from './redis-scripts.ts';
import { EvictionWatch, readPolicies } from './redis-eviction.ts';

export interface RedisStoreOptions extends RedisConnectionConfig {
  prefix: string;
  /**
   * Replicas that must hold a write before it is acknowledged (Redis WAIT): an authorization code, a token
   * or a spent marker then survives the promotion of a replica. Default 1 with Sentinel, else 0.
   */
  wait_replicas?: number | undefined;
  /** how long WAIT may take (below command_timeout_ms) */
  wait_timeout_ms?: number | undefined;
}

export const DEFAULT_WAIT_TIMEOUT_MS = 500;

export class RedisStore implements Store {
  readonly client: Redis | Cluster;
  readonly mode: RedisMode;
  private readonly prefix: string;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  /** the last connection failure since the last ready connection: what a generic command failure stands for */
  private lastFailure: unknown;
  private everReady = false;
  private closed = false;
  /** told of every failed command: a timeout drops a hung connection (not on Cluster, which finds its nodes) */
  private readonly failed: ((err: unknown) => void) | undefined;
  /** called before each command: a turn's commands leave in one write (Cluster auto-pipelines per node) */
  private readonly batch: (() => void) | undefined;
  /** whether a node the store uses may evict its keys (src/store/redis-eviction.ts) */
  readonly eviction: EvictionWatch;

  constructor(config: RedisStoreOptions) {
    const mode = parseRedisUrl(config.url).mode;
    this.waitReplicas = config.wait_replicas ?? (mode === 'sentinel' ? 1 : 0);
    if (mode === 'cluster' && this.waitReplicas > 0)
      throw new StoreError('wait_replicas is not available on Cluster: WAIT must reach the node that took the write');
    const { client } = redisClient(config);
    defineScripts(client);
    this.client = client;
    this.mode = mode;
    this.prefix = config.prefix;
    this.waitTimeoutMs = config.wait_timeout_ms ?? DEFAULT_WAIT_TIMEOUT_MS;
    // errors surface on the commands that fail (named by outage()); an unhandled 'error' event would crash
    // the process
    client.on('error', (err) => {
      this.lastFailure = err;
    });
    client.on('ready', () => {
      this.lastFailure = undefined;
      this.everReady = true;
      this.eviction.reconnected();
    });
    // a Cluster node met for the first time (a new primary, a node added) is checked as well
    if (mode === 'cluster') client.on('+node', () => this.eviction.reconnected());
    this.eviction = new EvictionWatch(() => this.exec((c) => readPolicies(c, mode)));
    reconnectWhenEnded(client, () => this.closed);
    this.failed = mode === 'cluster' ? undefined : resetHungConnection(client as Redis);
    this.batch = mode === 'cluster' ? undefined : socketBatcher(client as Redis);
  }

  /** A failed command as the store reports it: an outage (named by its cause where known), or the error as is. */
  private outage(err: unknown): unknown {
    if (err instanceof StoreError) return err;
    const e = err as Error;
    // a refused password is an outage for the requests that meet it: the operator fixes it, nothing else will
    const refused = isAuthRefusal(e);
    if (!refused && e?.name === 'ReplyError' && !isOutageReply(e.message)) return err;
    // ioredis messages name the failure ("Command timed out", "Connection is closed."), never a key or value
    const why = commandFailure(e, this.lastFailure, !this.everReady);
    return new StoreUnavailableError(`redis (${this.mode}) unavailable: ${why}`, { cause: err });
  }

  /** Whether the client holds a ready connection now (readiness, tests). */
  get connected(): boolean {
    return this.client.status === 'ready';
  }

  private async run<T>(op: (client: Redis | Cluster) => Promise<T>): Promise<T> {
    if (this.eviction.guarding) await this.eviction.gate();
    return this.exec(op);
  }

  private async exec<T>(op: (client: Redis | Cluster) => Promise<T>): Promise<T> {
    this.batch?.();
    try {
      return await op(this.client);
    } catch (err) {
      this.failed?.(err);
      throw this.outage(err);
    }
  }

  /** Acknowledge a write only once `wait_replicas` replicas hold it (everything this connection wrote so far). */
  private async durable(client: Redis | Cluster): Promise<void> {
    if (this.waitReplicas === 0) return;
    this.batch?.();
    const acked = await (client as Redis).wait(this.waitReplicas, this.waitTimeoutMs);
    if (acked < this.waitReplicas)
      throw new StoreUnavailableError(`write reached ${acked} of ${this.waitReplicas} replicas in time`);
  }

  private prefixed(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    return this.run(async (c) => (await c.get(this.prefixed(key))) ?? undefined);
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    assertTtl(ttlSeconds);
    await this.run(async (c) => {
      await c.set(this.prefixed(key), value, 'EX', ttlSeconds);
      await this.durable(c);
    });
  }

  async swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined> {
    assertTtl(ttlSeconds);
    return this.run(async (c) => {
      const previous = (await c.set(this.prefixed(key), value, 'EX', ttlSeconds, 'GET')) ?? undefined;
      await this.durable(c);
      return previous;
    });
  }

  async replace(key: string, value: string): Promise<boolean> {
    return this.run(async (c) => {
      const done = (await c.set(this.prefixed(key), value, 'KEEPTTL', 'XX')) === 'OK';
      if (done) await this.durable(c);
      return done;
    });
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    return this.run(async (c) => {
      const created = (await c.set(this.prefixed(key), value, 'EX', ttlSeconds, 'NX')) === 'OK';
      if (created) await this.durable(c);
      return created;
    });
  }

  async compareAndSet(key: string, expected: string, value: string, ttlSeconds: number): Promise<boolean> {
    assertTtl(ttlSeconds);
    return this.run(async (c) => {
      const done =
        (await (c as unknown as WithScripts).compareAndSet(this.prefixed(key), expected, value, ttlSeconds)) === 1;
      if (done) await this.durable(c);
      return done;
    });
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    return this.run(async (c) => {
      const done = (await (c as unknown as WithScripts).compareAndDelete(this.prefixed(key), expected)) === 1;
      if (done) await this.durable(c);
      return done;
    });
  }

  async take(key: string): Promise<string | undefined> {
    return this.run(async (c) => {
      const value = (await c.getdel(this.prefixed(key))) ?? undefined;
      // a taken state must stay taken after a failover, or it could be used twice
      if (value !== undefined) await this.durable(c);
      return value;
    });
  }

  async takeAndMark(key: string, mark: string): Promise<Taken | undefined> {
    return this.run(async (c) => {
      const previous =
        (await (c as unknown as WithScripts).takeAndMark(this.prefixed(key), MARKED + mark)) ?? undefined;
      // as take: the mark must outlive a failover, or the value could be taken twice
      if (previous !== undefined && !previous.startsWith(MARKED)) await this.durable(c);
      return takenFrom(previous);
    });
  }

  async delete(...keys: string[]): Promise<void> {
    if (!keys.length) return;
    await this.run(async (c) => {
      const full = keys.map((key) => this.prefixed(key));
      // unrelated keys lie in different hash slots on Cluster; one DEL each (pipelined per node)
      if (this.mode === 'cluster') await Promise.all(full.map((key) => c.del(key)));
      else await c.del(...full);
      await this.durable(c);
    });
  }

  async increment(key: string, ttlSeconds: number): Promise<{ count: number; ttl: number }> {
    assertTtl(ttlSeconds);
    // one command; NX starts the window on the first increment and never extends it. No WAIT: a counter
    // lost in a failover only restarts one abuse-limit window.
    return this.run(async (c) => {
      const [count, ttl] = await (c as unknown as WithScripts).increment(this.prefixed(key), ttlSeconds);
      return { count: Number(count), ttl: ttl > 0 ? Number(ttl) : ttlSeconds };
    });
  }

  async ttl(key: string): Promise<number | undefined> {
    return this.run(async (c) => {
      const ttl = await c.ttl(this.prefixed(key));
      return ttl >= 0 ? ttl : undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.quit().catch(() => this.client.disconnect());
  }
}

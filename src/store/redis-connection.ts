// The ioredis client for each deployment form, with its failure behaviour chosen deliberately: while Redis
// is away a command fails at once instead of waiting in an unbounded offline queue, so every request gets
// an answer in bounded time (a retry page) and the client keeps reconnecting on its own, finding the new
// primary through Sentinel or the cluster's slot map. Nothing here restarts the gateway.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-url.ts';

export interface RedisConnectionConfig {
  /** redis[s]://, redis[s]+sentinel:// or redis[s]+cluster:// (src/store/redis-url.ts) */
  url: string;
  /** data nodes' ACL user and password; override those in the URL */
  username?: string | undefined;
  password?: string | undefined;
  /** the Sentinels' own password (their requirepass), when they have one */
  sentinel_password?: string | undefined;
  /** PEM file of the CA that signed the Redis servers' certificates (rediss); default: the system's */
  ca?: string | undefined;
  /** PEM files of the gateway's client certificate and its key, for servers that demand one (mutual TLS) */
  cert?: string | undefined;
  key?: string | undefined;
  /** longest wait for one command's answer (a hung connection, a partition) */
  command_timeout_ms?: number | undefined;
  /** longest wait for a connection, also for the first one at startup */
  connect_timeout_ms?: number | undefined;
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

/** Reconnect at once, then back off to one attempt a second, and never give up. */
const reconnectDelay = (attempt: number): number => Math.min(attempt * 100, 1000);

function tlsOptions(config: RedisConnectionConfig, target: RedisTarget): ConnectionOptions | undefined {
  if (!target.tls) return undefined;
  return {
    ...(config.ca ? { ca: readFileSync(config.ca) } : {}),
    ...(config.cert && config.key ? { cert: readFileSync(config.cert), key: readFileSync(config.key) } : {}),
  };
}

function commonOptions(config: RedisConnectionConfig, target: RedisTarget): RedisOptions {
  const username = config.username ?? target.username;
  const password = config.password ?? target.password;
  const tls = tlsOptions(config, target);
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    connectTimeout: config.connect_timeout_ms ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout: config.command_timeout_ms ?? DEFAULT_COMMAND_TIMEOUT_MS,
    // until the first connection commands wait for it (startup reads the audit witness at once), bounded by
    // the command timeout; then failFast() turns the queue off
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    // a command that was in flight when the connection broke may or may not have run: resending it on the
    // new primary could apply it twice (GETDEL, INCR); the request fails and the user tries again instead
    autoResendUnfulfilledCommands: false,
    // a primary demoted to replica answers writes with READONLY: reconnect, Sentinel names the new one
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    // one server or Sentinel: RedisStore batches a turn's commands itself (src/store/redis-batching.ts)
    enableAutoPipelining: false,
  };
}

/** Once connected, a command issued while the connection is down fails at once: a queue would hold
 * requests for as long as the outage lasts. Reconnecting goes on regardless. */
function failFast<C extends Redis | Cluster>(client: C): C {
  client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  return client;
}

/**
 * ioredis gives a client up for good (status `end`: every command fails with "Connection is closed.") when
 * a connect fails rather than its connection: a Sentinel client disconnected while it is still asking the
 * Sentinels for the primary (as ioredis's failover detector did on a +switch-master) rejects its connect(),
 * and ioredis ends the client instead of retrying. Until `closed()` says the owner closed it, an ended client
 * connects again, as a lost connection would.
 */
export function reconnectWhenEnded(client: Redis | Cluster, closed: () => boolean): void {
  client.on('end', () => {
    if (closed()) return;
    const timer = setTimeout(() => {
      if (!closed() && client.status === 'end') client.connect().catch(() => {});
    }, reconnectDelay(1));
    timer.unref();
  });
}

/** ioredis's words for a command whose answer did not come within commandTimeout. */
const TIMED_OUT = 'Command timed out';

/**
 * A primary that froze, or that the network cut off, keeps the connection open: commands time out on it and
 * ioredis, which reconnects only when a connection closes, would wait for TCP to give up (many minutes). The
 * returned function, given each failed command's error, drops the connection on a timeout, once per
 * connection; the client connects again at once, to the primary Sentinel names by then.
 */
export function resetHungConnection(client: Redis): (err: unknown) => void {
  let reset = false;
  client.on('ready', () => {
    reset = false;
  });
  return (err) => {
    if (reset || client.status !== 'ready' || (err as Error)?.message !== TIMED_OUT) return;
    reset = true;
    client.disconnect(true);
  };
}

export function redisClient(config: RedisConnectionConfig): { client: Redis | Cluster; target: RedisTarget } {
  const target = parseRedisUrl(config.url);
  const common = commonOptions(config, target);
  if (target.mode === 'cluster') {
    const { enableOfflineQueue: _queue, ...redisOptions } = common;
    const client = new Cluster(target.nodes, {
      redisOptions,
      enableOfflineQueue: true,
      enableAutoPipelining: true,
      clusterRetryStrategy: reconnectDelay,
      // TLS certificates name the nodes' host names, which the cluster's own address list would lose
      ...(target.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
    });
    return { client: failFast(client), target };
  }
  if (target.mode === 'sentinel') {
    const client = new Redis({
      ...common,
      sentinels: target.nodes,
      name: target.name!,
      db: target.db,
      ...(config.sentinel_password ? { sentinelPassword: config.sentinel_password } : {}),
      ...(target.tls ? { enableTLSForSentinelMode: true, sentinelTLS: common.tls ?? {} } : {}),
      sentinelRetryStrategy: reconnectDelay,
      // No failover detector (ioredis's +switch-master subscriptions): Sentinel announces the switch only once
      // the other replicas follow the new primary, after the client already found it when its connection to
      // the old one broke, so the detector broke that new connection once more (a second burst of failed
      // requests and unacknowledged writes); it ended the client for good when the announcement came while
      // the client was still asking the Sentinels; and quit() left its subscriptions open. A primary that
      // hangs instead of closing its connections is left by resetHungConnection().
      retryStrategy: reconnectDelay,
    });
    return { client: failFast(client), target };
  }
  const [node] = target.nodes;
  const client = new Redis({
    ...common,
    host: node!.host,
    port: node!.port,
    db: target.db,
    retryStrategy: reconnectDelay,
  });
  return { client: failFast(client), target };
}

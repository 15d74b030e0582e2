// Whether Redis may evict the store's keys. Every key the store writes has a TTL, so under memory pressure
// an evicting `maxmemory-policy` (volatile-* as well as allkeys-*; volatile-lru is ElastiCache's default)
// may drop any of them, and single use rests on "absent means unused": a dropped spent marker, replay-cache
// entry (SAML assertion id, banklink nonce) or consumed marker lets it be used again. Only `noeviction` is
// safe: a full Redis then refuses writes, which the gateway answers as an outage (src/web/store-outage.ts).
// The policy comes from INFO memory, which managed Redis allows where CONFIG is disabled. Checked at start
// (src/durable-parts.ts) and again on every (re)connection: one server, Sentinel's primary of the moment,
// every Cluster node the client knows (primaries must answer; a replica that does not is checked later).
import type { Cluster, Redis } from 'ioredis';
import { StoreUnavailableError } from './store.ts';
import type { RedisMode } from './redis-url.ts';

export const SAFE_POLICY = 'noeviction';

/** While refusing, how often a command may look again whether the policy was fixed (one INFO). */
const RECHECK_MS = 1000;

export interface NodePolicy {
  /** host:port */
  node: string;
  /** undefined: the server would not say (an ACL without INFO) */
  policy: string | undefined;
  why?: string;
}

function address(redis: Redis): string {
  const stream = redis.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return stream?.remoteAddress
    ? `${stream.remoteAddress}:${stream.remotePort}`
    : `${redis.options.host}:${redis.options.port}`;
}

async function policyOf(redis: Redis, optional = false): Promise<NodePolicy | undefined> {
  try {
    const info = await redis.info('memory');
    return { node: address(redis), policy: /^maxmemory_policy:(\S+)/m.exec(info)?.[1], why: 'not in INFO memory' };
  } catch (err) {
    const message = String((err as Error)?.message);
    if (/^(NOPERM|ERR unknown command)/.test(message))
      return { node: address(redis), policy: undefined, why: `INFO refused: ${message.split('\n')[0]!.slice(0, 120)}` };
    if (optional) return undefined;
    throw err;
  }
}

/** The policy of every node the client uses now; a connection failure is thrown as it comes. */
export async function readPolicies(client: Redis | Cluster, mode: RedisMode): Promise<NodePolicy[]> {
  if (mode !== 'cluster') return [(await policyOf(client as Redis))!];
  const cluster = client as Cluster;
  // before its first connection a Cluster client knows no node yet: any command waits for the slot map
  await cluster.ping();
  const primaries = await Promise.all(cluster.nodes('master').map((n) => policyOf(n)));
  const replicas = await Promise.all(cluster.nodes('slave').map((n) => policyOf(n, true)));
  return [...primaries, ...replicas].filter((p): p is NodePolicy => p !== undefined);
}

/** Why the store must not run on these nodes, or undefined when every one is `noeviction`. */
export function evictionFinding(policies: NodePolicy[]): string | undefined {
  const unsafe = policies.filter((p) => p.policy !== SAFE_POLICY);
  if (!unsafe.length) return undefined;
  const named = unsafe
    .map((p) =>
      p.policy === undefined
        ? `unknown on ${p.node} (${p.why}; let the gateway's Redis user run INFO)`
        : `${p.policy} on ${p.node}`,
    )
    .join(', ');
  return (
    `Redis may evict the gateway's keys (maxmemory-policy ${named}): every key has a TTL, so under memory ` +
    'pressure any may be dropped, and a dropped spent marker, replay-cache entry or nonce lets a code, ' +
    'assertion or nonce be used again; set maxmemory-policy noeviction (a full Redis then refuses writes, ' +
    'which the gateway answers with its retry page)'
  );
}

export interface EvictionReaction {
  /** production: commands fail as an outage while a node may evict */
  refuse: boolean;
  /** told each time the finding changes (undefined: safe again) */
  report(finding: string | undefined): void;
}

/** The last verdict on the store's nodes, looked at again after every (re)connection. */
export class EvictionWatch {
  private finding: string | undefined;
  private stale = false;
  private checkedAt = 0;
  private checking: Promise<string | undefined> | undefined;
  private reaction: EvictionReaction | undefined;
  private readonly read: () => Promise<NodePolicy[]>;

  constructor(read: () => Promise<NodePolicy[]>) {
    this.read = read;
  }

  /** Reads the policies now (one check at a time); a connection failure is thrown. */
  check(): Promise<string | undefined> {
    this.checking ??= this.read()
      .then((policies) => {
        const finding = evictionFinding(policies);
        this.stale = false;
        this.checkedAt = Date.now();
        if (finding !== this.finding) {
          this.finding = finding;
          this.reaction?.report(finding);
        }
        return finding;
      })
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  /** From now on, react to what the checks after each (re)connection find. */
  watch(reaction: EvictionReaction): void {
    this.reaction = reaction;
  }

  /** A connection was made again (Sentinel may name another primary; a Cluster node joined). */
  reconnected(): void {
    if (!this.reaction) return;
    this.stale = true;
    this.check().catch(() => {});
  }

  /** Whether commands must pass gate() first. */
  get guarding(): boolean {
    return this.reaction?.refuse === true && (this.stale || this.finding !== undefined);
  }

  /** Before a command while guarding: waits for a pending check; throws while a node may evict. */
  async gate(): Promise<void> {
    if (this.stale || Date.now() - this.checkedAt >= RECHECK_MS) await this.check().catch(() => {});
    if (this.finding) throw new StoreUnavailableError(this.finding);
  }
}

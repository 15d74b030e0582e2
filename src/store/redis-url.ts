// Where the Redis store lives, in one URL per deployment form (the scheme says which):
//   redis[s]://[user:password@]host:port[/db]                          one server
//   redis[s]+sentinel://[user:password@]host:26379,host:26379/name      Sentinel: its addresses, the master name
//   redis[s]+cluster://[user:password@]host:6379,host:6379             Cluster: seed nodes (db 0 only)
// `rediss` means TLS to every node (Sentinels included). The user and password are the data nodes'
// (Redis ACL); Sentinels' own password is `store.sentinel_password`. Parsed here, without ioredis, so that
// configuration can check a URL without connecting; problems never quote the URL (it may carry the password).

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

export interface RedisNode {
  host: string;
  port: number;
}

export interface RedisTarget {
  mode: RedisMode;
  tls: boolean;
  nodes: RedisNode[];
  /** Sentinel master name */
  name?: string;
  db: number;
  username?: string;
  password?: string;
}

export class RedisUrlError extends Error {
  override name = 'RedisUrlError';
}

const SHAPE = /^(rediss?)(?:\+(sentinel|cluster))?:\/\/(?:([^/?#]*)@)?([^/?#@]+)(?:\/([^?#]*))?$/i;

const DEFAULT_PORT: Record<RedisMode, number> = { standalone: 6379, sentinel: 26379, cluster: 6379 };

function node(text: string, mode: RedisMode): RedisNode {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text);
  const port = m?.[3] === undefined ? DEFAULT_PORT[mode] : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw new RedisUrlError('has a host that is not host[:port]');
  return { host: m[1] ?? m[2]!, port };
}

function decoded(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RedisUrlError('has a badly percent-encoded user or password');
  }
}

/** The store's whereabouts, or a RedisUrlError saying what is wrong (never quoting the URL). */
export function parseRedisUrl(url: string): RedisTarget {
  const m = SHAPE.exec(url.trim());
  if (!m)
    throw new RedisUrlError(
      'must be redis[s]://host:port[/db], redis[s]+sentinel://host:port,.../mastername or redis[s]+cluster://host:port,...',
    );
  const [, scheme, form, userinfo, hosts, path = ''] = m;
  const mode: RedisMode = form ? (form.toLowerCase() as RedisMode) : 'standalone';
  const nodes = hosts!.split(',').map((h) => node(h, mode));
  if (mode === 'standalone' && nodes.length > 1)
    throw new RedisUrlError('names several hosts: use redis+sentinel:// or redis+cluster:// for those');
  const colon = userinfo?.indexOf(':') ?? -1;
  const username = decoded(colon >= 0 ? userinfo!.slice(0, colon) : userinfo);
  const password = decoded(colon >= 0 ? userinfo!.slice(colon + 1) : undefined);
  const target: RedisTarget = { mode, tls: scheme!.toLowerCase() === 'rediss', nodes, db: 0 };
  if (username) target.username = username;
  if (password) target.password = password;
  if (mode === 'sentinel') {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(path))
      throw new RedisUrlError('must end with the Sentinel master name (redis+sentinel://host:26379,.../mymaster)');
    target.name = path;
  } else if (mode === 'cluster') {
    if (path) throw new RedisUrlError('cannot select a database on Cluster (only db 0 exists there)');
  } else if (path) {
    if (!/^\d{1,2}$/.test(path)) throw new RedisUrlError('has a path that is not a database number');
    target.db = Number(path);
  }
  return target;
}

// A fleet of real Redis processes in a temporary directory of its own: single servers (plain or TLS only),
// a primary with replicas and three Sentinels, or a three-node Cluster; all stopped and removed together.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { command, RedisProcess, tlsCommand, until } from './redis-processes.ts';
import { freePort } from '../support/free-port.ts';

const run = promisify(execFile);

/** A primary, its replicas and three Sentinels watching it (src/store/redis-url.ts's Sentinel form). */
export interface SentinelSet {
  primary: RedisProcess;
  sentinels: RedisProcess[];
  /** the store URL: every Sentinel and the master's name */
  url: string;
  /** the port of the primary the Sentinels name now */
  primaryPort(): Promise<number>;
}

export class RedisFleet {
  readonly dir = mkdtempSync(join(tmpdir(), 'vpm-redis-'));
  readonly processes: RedisProcess[] = [];

  /** `port`: the plain port (0: none), `name` the server's own files are named by */
  private dataArgs(port: number, extra: string[] = [], name = port): string[] {
    return ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'no']
      .concat(['--dbfilename', `dump-${name}.rdb`])
      .concat(extra);
  }

  async server(extra: string[] = [], port?: number): Promise<RedisProcess> {
    const p = port ?? (await freePort());
    const process = await new RedisProcess(p, this.dataArgs(p, extra)).start();
    this.processes.push(process);
    return process;
  }

  /**
   * A server reachable over TLS only (no plain port), with `files`' certificate and key. With `client` (a
   * certificate signed by `files.ca`, which this fleet's readiness probe presents) every client must
   * present one (mutual TLS). `extra`: more arguments (users, passwords).
   */
  async tlsServer(
    files: { ca: string; cert: string; key: string },
    options: { client?: { cert: string; key: string }; extra?: string[] } = {},
  ): Promise<RedisProcess> {
    const port = await freePort();
    const { client, extra = [] } = options;
    const args = this.dataArgs(
      0,
      [
        ...['--tls-port', String(port), '--tls-cert-file', files.cert, '--tls-key-file', files.key],
        ...['--tls-ca-cert-file', files.ca, '--tls-auth-clients', client ? 'yes' : 'no'],
        ...extra,
      ],
      port,
    );
    const trust = {
      ca: readFileSync(files.ca),
      ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
    };
    const process = await new RedisProcess(port, args, () => tlsCommand(port, trust, 'PING')).start();
    this.processes.push(process);
    return process;
  }

  /** A Sentinel watching `master` on `primaryPort`: down after 1 s, quorum 2. */
  async sentinel(primaryPort: number, master: string): Promise<RedisProcess> {
    const port = await freePort();
    const file = join(this.dir, `sentinel-${port}.conf`);
    writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${master} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${master} 1000`,
        `sentinel failover-timeout ${master} 5000`,
        `sentinel parallel-syncs ${master} 2`,
        '',
      ].join('\n'),
    );
    const process = await new RedisProcess(port, [file, '--sentinel']).start();
    this.processes.push(process);
    return process;
  }

  /** A primary with `replicas` replicas attached and three Sentinels watching it as `master`, in agreement. */
  async sentinelled(replicas: number, master = 'vpm'): Promise<SentinelSet> {
    const primary = await this.server();
    for (let i = 0; i < replicas; i += 1) await this.server(['--replicaof', '127.0.0.1', String(primary.port)]);
    await until(
      async () =>
        ((await command(primary.port, 'INFO', 'replication'))?.match(/state=online/g) ?? []).length === replicas,
      `${replicas} replicas attached`,
    );
    const sentinels: RedisProcess[] = [];
    for (let i = 0; i < 3; i += 1) sentinels.push(await this.sentinel(primary.port, master));
    await until(
      async () => (await command(sentinels[0]!.port, 'SENTINEL', 'ckquorum', master))?.startsWith('+OK') ?? false,
      'sentinels agree on the quorum',
    );
    return {
      primary,
      sentinels,
      url: `redis+sentinel://${sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}/${master}`,
      primaryPort: async () => {
        const answer = await command(sentinels[0]!.port, 'SENTINEL', 'get-master-addr-by-name', master);
        return Number(/\r\n(\d+)\r\n$/.exec(answer ?? '')?.[1]);
      },
    };
  }

  /** Three masters with cluster mode on, joined by redis-cli (all 16384 slots covered). */
  async cluster(): Promise<RedisProcess[]> {
    const nodes: RedisProcess[] = [];
    for (let i = 0; i < 3; i += 1) {
      const port = await freePort(10000);
      nodes.push(
        await this.server(
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(this.dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '2000',
          ],
          port,
        ),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const node of nodes)
      await until(
        async () => (await command(node.port, 'CLUSTER', 'INFO'))?.includes('cluster_state:ok') ?? false,
        `cluster state ok on ${node.port}`,
      );
    return nodes;
  }

  async stop(): Promise<void> {
    for (const p of this.processes) await p.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

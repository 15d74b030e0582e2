// Real Redis processes for the store's failure tests, each on free ports in a temporary directory of its
// own: a primary with replicas and three Sentinels, or a three-node Cluster. Waiting is always on a
// condition (a PING answer, a promoted primary, cluster_state:ok), never on a fixed time.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One line command over plain RESP (no client library, so it also works while ioredis reconnects). */
export function command(port: number, ...args: string[]): Promise<string | undefined> {
  return exchange(net.connect({ port, host: '127.0.0.1' }), 'connect', args);
}

/** The same over TLS (`options`: the CA to trust, a client certificate for servers that want one). */
export function tlsCommand(port: number, options: tls.ConnectionOptions, ...args: string[]) {
  return exchange(tls.connect({ port, host: '127.0.0.1', ...options }), 'secureConnect', args);
}

function exchange(socket: net.Socket, ready: string, args: string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buffer = '';
    const done = (answer: string | undefined) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on(ready, () =>
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`),
    );
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      // enough for the answers used here: a simple line, or one bulk string / array of them read whole
      if (/^[+\-:]/.test(buffer) && buffer.includes('\r\n')) done(buffer);
      else if (/^\$-1\r\n|^\*-1\r\n/.test(buffer)) done(buffer);
      else if (/^\$(\d+)\r\n/.test(buffer)) {
        const n = Number(/^\$(\d+)/.exec(buffer)![1]);
        if (Buffer.byteLength(buffer) >= n + String(n).length + 5) done(buffer);
      } else if (/^\*(\d+)\r\n/.test(buffer)) {
        const n = Number(/^\*(\d+)/.exec(buffer)![1]);
        if ((buffer.match(/\r\n/g) ?? []).length >= 1 + 2 * n) done(buffer);
      }
    });
  });
}

/** Poll until `check` holds (each poll a real round trip; the test's own timeout bounds the wait). */
export async function until(check: () => Promise<boolean>, what: string, attempts = 600): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

/** A free TCP port on 127.0.0.1 (with `plus` also free, for a cluster bus port). */
export async function freePort(plus?: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
      server.on('error', reject);
    });
    if (plus === undefined) return port;
    if (port + plus > 65535) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port + plus, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export class RedisProcess {
  child: ChildProcess | undefined;
  readonly port: number;
  private readonly args: string[];
  private readonly ping: () => Promise<string | undefined>;
  constructor(port: number, args: string[], ping = () => command(port, 'PING')) {
    this.port = port;
    this.args = args;
    this.ping = ping;
  }

  async start(): Promise<this> {
    this.child = spawn('redis-server', this.args, { stdio: 'ignore' });
    // a server with a password answers NOAUTH: it is up all the same
    await until(async () => /^(\+PONG|-NOAUTH)/.test((await this.ping()) ?? ''), `redis on ${this.port}`);
    return this;
  }

  /** SIGKILL: no shutdown, no last save, connections reset. Resolves once the process is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

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

/** Whether redis-cli exists here (the Cluster test needs it to create the cluster). */
export async function haveRedisCli(): Promise<boolean> {
  return run('redis-cli', ['--version']).then(
    () => true,
    () => false,
  );
}

// Real Redis processes for the store's failure tests, each on free ports (./redis-fleet.ts starts them
// in a temporary directory of its own: a primary with replicas and three Sentinels, or a three-node
// Cluster). Waiting is always on a condition (a PING answer, a promoted primary, cluster_state:ok), never
// on a fixed time.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
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

/** Whether redis-cli exists here (the Cluster test needs it to create the cluster). */
export async function haveRedisCli(): Promise<boolean> {
  return run('redis-cli', ['--version']).then(
    () => true,
    () => false,
  );
}

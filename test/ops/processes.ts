// Real gateway processes for the multi-process tests, and the round-robin load balancer in front of them.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');
export const NODE = join(root, 'node_modules/.bin/node');
export const MAIN = join(root, 'src/cli/main.ts');

/** `node src/cli/main.ts <args>` (or `command`, such as a container's, then `args`) as a child process, its
 * output collected. */
export class GatewayProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly closed: Promise<void>;

  constructor(args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; command?: string[] }) {
    const [program, ...before] = options.command ?? [NODE, MAIN];
    this.child = spawn(program!, [...before, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (d: Buffer) => {
      this.output += d.toString();
    };
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    this.exit = new Promise((ok) => this.child.once('exit', (code, signal) => ok({ code, signal })));
    // the output pipes close once every process holding them has ended: the child and any it forked
    this.closed = new Promise((ok) => this.child.stderr!.once('close', () => ok()));
  }

  /** Resolves with the first match of `pattern` in the output at or after `from` (checked on each chunk of
   * output, not on a timer); rejects if the process ends first. */
  printed(pattern: RegExp, from = 0): Promise<RegExpExecArray> {
    return new Promise((ok, fail) => {
      const look = () => {
        const found = pattern.exec(this.output.slice(from));
        if (!found) return false;
        this.child.stdout!.off('data', look);
        this.child.stderr!.off('data', look);
        ok(found);
        return true;
      };
      if (look()) return;
      this.child.stdout!.on('data', look);
      this.child.stderr!.on('data', look);
      void this.exit.then(({ code, signal }) => {
        if (!look()) fail(new Error(`gateway ended (${code ?? signal}) before ${pattern}:\n${this.output}`));
      });
    });
  }

  /** The port of the main listener, once it listens. */
  async port(): Promise<number> {
    return Number((await this.printed(/listening on port (\d+)/))[1]);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exit;
  }
}

export interface Forwarded {
  method: string;
  path: string;
  /** index of the instance that answered */
  instance: number;
  status: number;
}

/**
 * A load balancer as in front of a deployment: each request (not each connection) goes to the next
 * instance in turn; a refused connection (nothing sent yet) is retried on the next one, as a balancer's
 * health checks would take that instance out; a connection lost after the request was sent answers 502.
 */
export class RoundRobinProxy {
  readonly server: http.Server;
  readonly forwarded: Forwarded[] = [];
  private next = 0;
  private held: { match: (path: string) => boolean; instance: number; sent: () => void } | undefined;

  readonly ports: number[];

  constructor(ports: number[]) {
    this.ports = ports;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next request whose path matches goes to `instance` with only half its body sent: resolves once
   * that half is written to the instance's socket (a request in flight there). */
  holdNext(match: (path: string) => boolean, instance: number): Promise<void> {
    return new Promise((sent) => {
      this.held = { match, instance, sent };
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = req.url ?? '/';
    const held = this.held?.match(path) ? this.held : undefined;
    if (held) this.held = undefined;
    for (let attempt = 0; attempt < this.ports.length; attempt += 1) {
      const instance = held ? held.instance : this.next++ % this.ports.length;
      const outcome = await this.forward(instance, req, body, res, held);
      if (outcome === 'refused' && !held) continue;
      if (outcome !== 'answered') res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
      return;
    }
    res.writeHead(503, { 'content-type': 'text/plain' }).end('no instance\n');
  }

  private forward(
    instance: number,
    req: http.IncomingMessage,
    body: Buffer,
    res: http.ServerResponse,
    held: { sent: () => void } | undefined,
  ): Promise<'answered' | 'refused' | 'lost'> {
    return new Promise((done) => {
      const upstream = http.request({
        host: '127.0.0.1',
        port: this.ports[instance],
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'content-length': String(body.length), 'x-forwarded-for': '127.0.0.1' },
        agent: false,
      });
      upstream.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'lost'));
      upstream.once('response', (answer) => {
        this.forwarded.push({ method: req.method!, path: req.url!, instance, status: answer.statusCode! });
        res.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(res);
        answer.once('end', () => done('answered'));
        answer.once('error', () => done('answered'));
      });
      if (!held) {
        upstream.end(body);
        return;
      }
      upstream.once('socket', (socket) =>
        socket.once('connect', () => upstream.write(body.subarray(0, body.length >> 1), () => held.sent())),
      );
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((ok) => this.server.close(() => ok()));
  }
}

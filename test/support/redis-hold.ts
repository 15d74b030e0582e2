// A Redis connection held at a command of the test's choosing: gateway processes reach Redis through this TCP
// proxy, which reads the commands they send (RESP arrays of bulk strings, as ioredis writes them) and, once
// armed, stops forwarding a connection at the first command that matches, that command and everything after it,
// until released. An interleaving of two instances made certain, not hoped for: one instance is held between
// two of its commands while the other goes ahead.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

type Match = (args: string[]) => boolean;

/** The length of the first complete command in `buffer` and its arguments; undefined while incomplete. */
function firstCommand(buffer: Buffer): { length: number; args: string[] } | undefined {
  const line = (from: number) => {
    const end = buffer.indexOf('\r\n', from);
    return end < 0 ? undefined : { text: buffer.toString('latin1', from, end), next: end + 2 };
  };
  const head = line(0);
  if (!head) return undefined;
  if (!head.text.startsWith('*')) throw new Error(`not a RESP array: ${head.text.slice(0, 20)}`);
  const args: string[] = [];
  let at = head.next;
  for (let i = 0; i < Number(head.text.slice(1)); i += 1) {
    const size = line(at);
    if (!size) return undefined;
    const end = size.next + Number(size.text.slice(1));
    if (buffer.length < end + 2) return undefined;
    args.push(buffer.toString('utf8', size.next, end));
    at = end + 2;
  }
  return { length: at, args };
}

export class RedisHold {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private armed: { match: Match; held: () => void } | undefined;
  private releases: (() => void)[] = [];
  private readonly target: { host: string; port: number };

  constructor(redisUrl: string) {
    const url = new URL(redisUrl);
    this.target = { host: url.hostname, port: Number(url.port || 6379) };
    this.server = net.createServer((client) => this.connect(client));
  }

  /** The URL to give the gateway instead of Redis's own. */
  async listen(): Promise<string> {
    await new Promise<void>((ok) => this.server.listen(0, '127.0.0.1', ok));
    return `redis://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Hold the next command that `match`es (on whichever connection sends it): resolves once it is held. */
  holdNext(match: Match): Promise<void> {
    return new Promise((held) => {
      this.armed = { match, held };
    });
  }

  /** Forward what was held, and everything after it; a hold not yet taken effect is called off. */
  release(): void {
    this.armed = undefined;
    const waiting = this.releases;
    this.releases = [];
    for (const go of waiting) go();
  }

  private connect(client: net.Socket): void {
    const server = net.connect(this.target);
    for (const s of [client, server]) {
      this.sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        server.destroy();
      });
    }
    server.pipe(client);
    let pending = Buffer.alloc(0);
    let holding = false;
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!holding) forward();
    });
    // whole commands go on one by one until the armed one, which waits (with all after it) for release()
    const forward = () => {
      for (;;) {
        const command = firstCommand(pending);
        if (!command) return;
        const armed = this.armed;
        if (armed?.match(command.args)) {
          // the held command goes first on release, not matched again
          this.armed = undefined;
          holding = true;
          const held = pending.subarray(0, command.length);
          pending = pending.subarray(command.length);
          this.releases.push(() => {
            server.write(held);
            holding = false;
            forward();
          });
          armed.held();
          return;
        }
        server.write(pending.subarray(0, command.length));
        pending = pending.subarray(command.length);
      }
    };
  }

  async close(): Promise<void> {
    this.release();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}

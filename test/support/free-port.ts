// A loopback TCP port nobody listens on now: the kernel picks one, we let it go at once. Another process
// could take it in between, which on loopback in a test run is rare enough to accept.
import net from 'node:net';

/** Whether `port` can be listened on now (127.0.0.1); `0` asks the kernel for one, whose number comes back. */
function listenOnce(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/** A free TCP port on 127.0.0.1 (with `plus` also free, for a Redis cluster's bus port). */
export async function freePort(plus?: number): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if (port === undefined) throw new Error('no free port on 127.0.0.1');
    if (plus === undefined) return port;
    if (port + plus <= 65535 && (await listenOnce(port + plus)) !== undefined) return port;
  }
}

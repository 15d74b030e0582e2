// Graceful shutdown of the listeners: stop accepting connections, let the requests in flight finish,
// close keep-alive connections as they fall idle, and cut whatever is left when the time is up.
import type http from 'node:http';

/** Resolves true when every listener closed in time, false when connections had to be cut. */
export function drain(servers: readonly http.Server[], timeoutMs: number): Promise<boolean> {
  if (!servers.length) return Promise.resolve(true);
  return new Promise((resolve) => {
    let open = servers.length;
    const idle = setInterval(() => {
      for (const server of servers) server.closeIdleConnections();
    }, 50);
    const done = (inTime: boolean) => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve(inTime);
    };
    const deadline = setTimeout(() => {
      for (const server of servers) server.closeAllConnections();
      done(false);
    }, timeoutMs);
    for (const server of servers) {
      server.close(() => {
        open -= 1;
        if (open === 0) done(true);
      });
      server.closeIdleConnections();
    }
  });
}

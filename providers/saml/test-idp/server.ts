// The test IdP on its own loopback HTTP server, for tests; the demo mounts createTestIdp()'s router instead.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { createTestIdp, type TestIdp } from './idp.ts';
import type { TestIdpOptions } from './options.ts';

export interface RunningTestIdp extends TestIdp {
  url: string;
  close(): Promise<void>;
}

/** Start the test IdP on a loopback port. */
export async function startTestIdp(
  options: Omit<TestIdpOptions, 'baseUrl'> & { port?: number },
): Promise<RunningTestIdp> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp = await createTestIdp({ ...options, baseUrl: url });
  app.use(idp.router);
  return {
    ...idp,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// The test RP API on its own HTTPS port, with a TLS certificate from its own CA: what the tests pin and
// what `npm run test-smartid` (./main.ts) runs.
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { TestCa } from './ca.ts';
import { TestRpApi, type TestRpApiOptions } from './server.ts';

export interface RunningTestRpApi {
  api: TestRpApi;
  /** base URL of the v3 API, ending in /v3/ */
  url: string;
  /** the control API's base (…/control) */
  controlUrl: string;
  /** the test CA's OCSP responder (plain HTTP: its answers are signed) */
  ocspUrl: string;
  /** PEM of the RP API's TLS certificate: pin it (pinned_certificates) */
  serverCertPem: string;
  /** PEM of the CA that issued the TLS certificate (tls.ca) */
  tlsCaPem: string;
  close(): Promise<void>;
}

/** The test RP API on its own HTTPS port (0: any free one), with a TLS certificate from its own CA. */
export async function startTestRpApi(
  options: Omit<TestRpApiOptions, 'ca'> & { ca?: TestCa; port?: number; host?: string },
): Promise<RunningTestRpApi> {
  const ca = options.ca ?? (await TestCa.create());
  const api = new TestRpApi({ ...options, ca });
  const tls = await ca.issueServer();
  const app = express();
  app.use(api.router());
  const server: Server = createServer({ key: tls.keyPem, cert: tls.chainPem, minVersion: 'TLSv1.2' }, app);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const ocspApp = express();
  ocspApp.use('/ocsp', api.ocsp.router());
  const ocspServer = createHttpServer(ocspApp);
  await new Promise<void>((resolve) => ocspServer.listen(0, options.host ?? '127.0.0.1', resolve));
  const origin = `https://127.0.0.1:${port}`;
  return {
    api,
    url: `${origin}/v3/`,
    controlUrl: `${origin}/control`,
    ocspUrl: `http://127.0.0.1:${(ocspServer.address() as AddressInfo).port}/ocsp`,
    serverCertPem: tls.certPem,
    tlsCaPem: ca.root.cert.toString('pem'),
    close: async () => {
      server.closeAllConnections();
      ocspServer.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => ocspServer.close(() => resolve()));
    },
  };
}

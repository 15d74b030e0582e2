// The hooks of a test file about one example e-service: the example gateway over HTTPS with the
// development PKI, the test's browser trusting its CA and navigating as a browser does, and the service
// started against it; after the file the service stops, then the gateway.
import http from 'node:http';
import https from 'node:https';
import { type Child, type ExampleGateway, printLogs, startExampleGateway, trustCa } from './support.ts';

/** What a test file starts against the gateway before its tests. */
export interface ExampleService {
  /** the service's base URL */
  rpBase: string;
  /** the service's own process: waited for until ready, stopped after the file */
  child?: Child;
  /** after the file, once the process and the gateway stopped (a temporary folder removed) */
  cleanup?(): void;
}

/**
 * Registers beforeAll/afterAll: the example gateway, then the service `start` starts against it. The
 * returned object is filled in by beforeAll, for the tests to read.
 */
export function exampleServiceRun<S extends ExampleService>(
  start: (gateway: ExampleGateway) => S,
): S & { gateway: ExampleGateway } {
  const run = {} as S & { gateway: ExampleGateway };
  let untrust: (() => void) | undefined;
  let restoreFetch: (() => void) | undefined;
  beforeAll(async () => {
    run.gateway = await startExampleGateway();
    untrust = trustCa(run.gateway.caPem);
    restoreFetch = useNavigationFetch();
    // assigned before the wait, so that afterAll stops a process that never became ready
    Object.assign(run, start(run.gateway));
    await run.child?.ready;
  }, 60_000);
  afterAll(async () => {
    printLogs(run.gateway?.child, run.child);
    await run.child?.stop();
    untrust?.();
    restoreFetch?.();
    await run.gateway?.close();
    run.cleanup?.();
  });
  return run;
}

/**
 * fetch as a browser's top-level navigation: Sec-Fetch-Mode: navigate, Sec-Fetch-Dest: document, an
 * Accept for HTML. Node's own fetch always says `Sec-Fetch-Mode: cors`, which mod_auth_openidc (rightly)
 * answers with 401 instead of a login redirect, as it would a script's request. Installed as the global
 * fetch for the project's Browser while a test file runs; https uses the default CAs (see trustCa).
 */
export function useNavigationFetch(): () => void {
  const original = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    const body = typeof init.body === 'string' ? Buffer.from(init.body) : undefined;
    const headers: Record<string, string> = {
      accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'user-agent': 'Mozilla/5.0 (vpm-gateway example tests)',
      ...(init.headers as Record<string, string> | undefined),
      ...(body ? { 'content-length': String(body.length) } : {}),
    };
    return new Promise<Response>((ok, fail) => {
      const req = (url.protocol === 'https:' ? https : http).request(
        url,
        { method: init.method ?? 'GET', headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const out = new Headers();
            for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
            const status = res.statusCode ?? 502;
            ok(new Response([204, 205, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: out }));
          });
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  }) as typeof fetch;
  return () => {
    globalThis.fetch = original;
  };
}

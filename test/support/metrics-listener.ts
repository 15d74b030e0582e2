// The gateway's metrics listener (`metrics.port`), as `start` serves it beside the gateway, for the tests
// that scrape it over HTTP.
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenMetrics } from '../../src/ops/metered.ts';
import type { GatewayInUse } from './gateway.ts';

/** Listens once `gw` has started (its gateway configured with `metrics`); `url()` is the scrape URL. */
export function useMetricsListener(gw: GatewayInUse): { url(): string } {
  let server: http.Server | undefined;
  beforeAll(async () => {
    server = await listenMetrics(gw.gateway.metrics!, gw.config.metrics!);
  });
  afterAll(() => new Promise((ok) => (server ? server.close(ok) : ok(undefined))));
  return { url: () => `http://127.0.0.1:${(server!.address() as AddressInfo).port}/metrics` };
}

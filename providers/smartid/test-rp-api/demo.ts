// The demo's Smart-ID: the test RP API mounted in the gateway's own process under /demo/smart-id, its
// CA hierarchy kept under var/dev/smartid (the demo entry's `ca_certificates` names var/dev/smartid/ca.pem),
// and the test phone at /demo/smart-id/phone. Development only: plain http, no pinning.
import type { DemoPeer } from '../../../src/registry/factory.ts';
import type { SmartIdConfig } from '../config.ts';
import { TestCa } from './ca.ts';
import { TestRpApi } from './server.ts';

export const DEMO_DIR = 'var/dev/smartid';
export const DEMO_PATH = '/demo/smart-id';

export const smartIdDemoPeer: DemoPeer<SmartIdConfig> = {
  prepareMaterial: async () => {
    await TestCa.loadOrCreate(DEMO_DIR);
  },
  check(entries, { issuer }) {
    const served = entries.filter((e) => e.url.startsWith(`${issuer}${DEMO_PATH}/`));
    return [
      ...served
        .filter((e) => e.environment !== 'demo')
        .map((e) => `provider ${e.id}: the demo Smart-ID signs as SK's demo environment: set environment: demo`),
      ...served
        .filter((e) => e.url.startsWith('https:') && !e.tls)
        .map(
          (e) =>
            `provider ${e.id}: the demo Smart-ID is served by this gateway over https (${issuer}${DEMO_PATH}), so its entry needs tls: { ca: <the CA of server.tls> }`,
        ),
    ];
  },
  async mount(entries, { issuer }) {
    const served = entries.filter((e) => e.url.startsWith(`${issuer}${DEMO_PATH}/`));
    if (!served.length) return [];
    const ca = await TestCa.loadOrCreate(DEMO_DIR);
    const api = new TestRpApi({
      ca,
      relyingParties: served.map((e) => ({ uuid: e.relying_party_uuid, name: e.relying_party_name })),
      schemeName: 'smart-id-demo',
    });
    return [{ path: DEMO_PATH, router: api.router() }];
  },
};

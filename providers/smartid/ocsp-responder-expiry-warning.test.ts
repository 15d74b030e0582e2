// A configured OCSP responder certificate (ocsp.responder_certificates) is trusted in production only until it
// expires (./ocsp-responder-expiry.test.ts): the operator is told ahead. Through the whole gateway, the scrape
// shows when it expires, and the log warns as the expiry nears (`security.cert_expiry_warning_days`) and once
// it has passed, without a restart, as it does for the gateway's own client certificates.
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { scrapesTowardsExpiry } from '../../test/support/clock.ts';
import { useGateway } from '../../test/support/gateway.ts';
import { useMetricsListener } from '../../test/support/metrics-listener.ts';
import { SMARTID_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { startTestRpApi } from './test-rp-api/listen.ts';
import { RP_NAME, RP_UUID } from './test-harness.ts';

const DAY = 86_400_000;
let notAfter: number;

const gw = useGateway(async ({ dir, cleanup }) => {
  const ca = await TestCa.create();
  const rp = await startTestRpApi({ ca, relyingParties: [{ uuid: RP_UUID, name: RP_NAME }] });
  cleanup(() => rp.close());
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const responder = await rp.api.ocsp.uncertifiedSignerPem();
  notAfter = new X509Certificate(responder).validToDate.getTime();
  const entry = {
    ...SMARTID_TEST_ENTRY,
    id: 'smart-id',
    url: rp.url,
    ca_certificates: [file('sk-ca.pem', ca.pem)],
    pinned_certificates: [file('rp-api.pem', rp.serverCertPem)],
    tls: { ca: file('rp-api-ca.pem', rp.tlsCaPem) },
    ocsp: { url: rp.ocspUrl, responder_certificates: [file('ocsp-responder.pem', responder)] },
  };
  return { providers: [entry], settings: { metrics: { port: 0 }, security: { cert_expiry_warning_days: 30 } } };
});
const metrics = useMetricsListener(gw);
afterEach(() => jest.useRealTimers());

/** The scrape's expiry of Smart-ID's responder certificate, and the warnings about it logged since `from`. */
async function scrape(from: number) {
  const text = await (await fetch(metrics.url())).text();
  const value =
    /^vpm_provider_certificate_expiry_timestamp_seconds\{provider="smart-id",role="ocsp_responder"\} (\S+)$/m.exec(
      text,
    )?.[1];
  const warned = gw.logLines
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('provider certificate'));
  return { expiry: value === undefined ? undefined : Number(value), warned, text };
}

test('the scrape shows when the responder certificate expires; while far off, nothing is logged', async () => {
  const from = gw.logLines.length;
  expect(notAfter - Date.now()).toBeGreaterThan(30 * DAY);
  const { expiry, warned, text } = await scrape(from);
  expect({ expiry, warned }).toEqual({ expiry: notAfter / 1000, warned: [] });
  // it is no client certificate of the gateway's
  expect(text).not.toMatch(/^vpm_client_certificate_expiry_timestamp_seconds\{provider="smart-id"\}/m);
});

test('as the expiry nears, and once it has passed, a structured warning names the provider and the role, once per state', async () => {
  const from = gw.logLines.length;
  const { warned } = await scrapesTowardsExpiry(notAfter, () => scrape(from));
  const expected = { level: 'warn', providerId: 'smart-id', role: 'ocsp_responder' };
  expect(warned).toEqual([
    expect.objectContaining({
      ...expected,
      msg: 'provider certificate expires soon',
      notAfter: new Date(notAfter).toISOString(),
      daysLeft: 10,
    }),
    expect.objectContaining({ ...expected, msg: 'provider certificate has expired' }),
  ]);
});

// The gateway's own client certificate for a provider's back channel (its entry's tls.cert) expiring while
// the gateway runs: the scrape shows when it expires, and the log warns as the expiry nears and once it has
// passed (the provider would refuse the handshake: every login there an outage), without a restart.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { jest } from '@jest/globals';
import { startTestOp, type TestOp } from '../../providers/oidc/test-op/index.ts';
import { makeGatewayKeyFiles, providerEntry } from '../../providers/oidc/test-op/fixtures.ts';
import { setClock } from '../support/clock.ts';
import { useGateway } from '../support/gateway.ts';
import { useMetricsListener } from '../support/metrics-listener.ts';

const DAY = 86_400_000;
let op: TestOp;
let notAfter: number;

const gw = useGateway(async ({ dir, cleanup }) => {
  const keys = await makeGatewayKeyFiles(dir);
  op = await startTestOp({});
  cleanup(() => op.close());
  notAfter = new X509Certificate(readFileSync(op.tls!.cert)).validToDate.getTime();
  return {
    providers: [providerEntry(op, 'tls_client_auth', keys, 'eid-mtls')],
    settings: { metrics: { port: 0 }, security: { cert_expiry_warning_days: 30 } },
  };
});
const metrics = useMetricsListener(gw);
afterEach(() => jest.useRealTimers());

/** The scrape's expiry of the gateway's client certificate for eid-mtls, and the warnings logged since `from`. */
async function scrape(from: number) {
  const text = await (await fetch(metrics.url())).text();
  const value = /^vpm_client_certificate_expiry_timestamp_seconds\{provider="eid-mtls"\} (\S+)$/m.exec(text)?.[1];
  const warned = gw.logLines
    .slice(from)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('gateway client certificate'));
  return { expiry: value === undefined ? undefined : Number(value), warned };
}

test('the scrape shows when the client certificate expires; while far off, nothing is logged', async () => {
  const from = gw.logLines.length;
  expect(notAfter - Date.now()).toBeGreaterThan(30 * DAY);
  expect(await scrape(from)).toEqual({ expiry: notAfter / 1000, warned: [] });
});

test('as the expiry nears, and once it has passed, a structured warning names the provider, once per state', async () => {
  const from = gw.logLines.length;
  setClock(notAfter - 10 * DAY);
  await scrape(from);
  setClock(notAfter - 10 * DAY + 3_600_000);
  await scrape(from); // the same state within a day: not again
  setClock(notAfter + 60_000);
  const { warned } = await scrape(from);
  expect(warned).toEqual([
    expect.objectContaining({
      level: 'warn',
      msg: 'gateway client certificate expires soon',
      providerId: 'eid-mtls',
      notAfter: new Date(notAfter).toISOString(),
      daysLeft: 10,
    }),
    expect.objectContaining({
      level: 'warn',
      msg: expect.stringMatching(/^gateway client certificate has expired/),
      providerId: 'eid-mtls',
      notAfter: new Date(notAfter).toISOString(),
    }),
  ]);
});

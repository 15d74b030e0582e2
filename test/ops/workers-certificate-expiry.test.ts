// `start --workers 2` with a provider whose client certificate (its entry's tls.cert) expires within
// `security.cert_expiry_warning_days`: every worker watches it for its own gauge, which the primary's scrape
// shows once (the earliest expiry), but the operator reads the warning (and the startup security checks'
// finding about it) once per gateway, not once per worker.
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { MOCK_BANK } from '../support/provider-entries.ts';
import { instanceConfig } from './deployment.ts';
import { GatewayProcess } from './processes.ts';

const DAY = 86_400_000;
const prefix = `vpmtest:wcert:${randomBytes(6).toString('hex')}:`;
let dir: string;
let gateway: GatewayProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-workers-cert-'));
});

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  const redis = new Redis(process.env.VPM_TEST_REDIS_URL!);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('start --workers 2: the expiring client certificate is warned of once, and the scrape shows its expiry', async () => {
  const ca = await createCa({ commonName: 'Provider mTLS CA' });
  const client = await issueCertificate(ca, {
    commonName: 'vpm-gateway client',
    usage: 'client',
    notAfter: new Date(Date.now() + 10 * DAY),
  });
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text, { mode: 0o600 });
    return join(dir, name);
  };
  const tls = {
    ca: file('ca.pem', ca.cert),
    cert: file('client.pem', client.cert),
    key: file('client.key', client.key),
  };
  const notAfter = new X509Certificate(client.cert).validToDate.getTime();
  const config = instanceConfig(join(dir, 'gateway.yaml'), {
    dir,
    issuer: 'http://127.0.0.1:3000',
    port: 0,
    redisUrl: process.env.VPM_TEST_REDIS_URL!,
    prefix,
    bank: { ...MOCK_BANK, tls },
    audit: { dir: join(dir, 'audit') },
  });
  gateway = new GatewayProcess(['start', '--config', config, '--workers', '2'], { cwd: dir });
  const metricsPort = (await gateway.printed(/metrics on [^:\s]+:(\d+)/))[1];
  // both workers listen: each has checked its certificates by now
  const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(scrape).toMatch(
    new RegExp(`^vpm_client_certificate_expiry_timestamp_seconds\\{provider="mock-bank"\\} ${notAfter / 1000}$`, 'm'),
  );
  expect(await gateway.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  // every process has ended and its output has been read
  await gateway.closed;
  const lines = gateway.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  // the startup security checks' finding about it, too, once
  expect(lines.filter((line) => line.msg === 'security check')).toEqual([
    expect.objectContaining({ level: 'warn', worker: 1, finding: expect.stringContaining('providers[1].tls.cert') }),
  ]);
  const warnings = lines.filter((line) => line.msg === 'gateway client certificate expires soon');
  expect(warnings).toEqual([
    expect.objectContaining({
      level: 'warn',
      worker: 1,
      providerId: 'mock-bank',
      notAfter: new Date(notAfter).toISOString(),
    }),
  ]);
}, 120_000);

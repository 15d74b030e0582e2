// Run the Smart-ID test RP API on its own, over HTTPS:
//   node providers/smartid/test-rp-api/main.ts [--port 4300] [--host 127.0.0.1] [--dir var/dev/smartid]
//     [--rp-uuid 00000000-0000-4000-8000-000000000000] [--rp-name DEMO]
// Its CA hierarchy is kept in --dir (created on first start). It prints the provider entry to paste at the
// end of config/demo.yaml (`url`, `ca_certificates`, `tls.ca`, `pinned_certificates` and its CA's OCSP
// responder as `ocsp.url`) with its joining record. The phone: <origin>/phone and <origin>/control.
// Development use only.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { testPeerOutput } from '../../../src/onboarding/test-peer-output.ts';
import { TestCa } from './ca.ts';
import { startTestRpApi } from './listen.ts';

const usage =
  'usage: node providers/smartid/test-rp-api/main.ts [--port 4300] [--host 127.0.0.1] [--dir var/dev/smartid] [--rp-uuid <uuid>] [--rp-name DEMO] [--provider-id test-smartid]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '4300' },
        host: { type: 'string', default: '127.0.0.1' },
        dir: { type: 'string', default: 'var/dev/smartid' },
        'rp-uuid': { type: 'string', default: '00000000-0000-4000-8000-000000000000' },
        'rp-name': { type: 'string', default: 'DEMO' },
        'provider-id': { type: 'string', default: 'test-smartid' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) return void process.stdout.write(`${usage}\n`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0-65535');
  const dir = String(values.dir);
  const ca = await TestCa.loadOrCreate(dir);
  const rp = await startTestRpApi({
    ca,
    port,
    host: String(values.host),
    relyingParties: [{ uuid: String(values['rp-uuid']), name: String(values['rp-name']) }],
  });
  await writeFile(join(dir, 'rp-api-tls-ca.pem'), rp.tlsCaPem);
  await writeFile(join(dir, 'rp-api-tls.pem'), rp.serverCertPem);
  const entry = {
    id: String(values['provider-id']),
    type: 'smartid',
    name: { lv: 'Smart-ID (tests)', en: 'Smart-ID (test)' },
    kind: 'eid',
    loa: 'high',
    url: rp.url,
    relying_party_uuid: String(values['rp-uuid']),
    relying_party_name: String(values['rp-name']),
    environment: 'demo',
    ca_certificates: [join(dir, 'ca.pem')],
    tls: { ca: join(dir, 'rp-api-tls-ca.pem') },
    pinned_certificates: [join(dir, 'rp-api-tls.pem')],
    ocsp: { url: rp.ocspUrl },
  };
  const phone = rp.controlUrl.replace(/control$/, 'phone');
  const peer = { id: entry.id, name: 'Smart-ID (test)', kind: 'eid' as const, script: 'test-smartid' };
  process.stdout.write(testPeerOutput(`Smart-ID test RP API at ${rp.url}, its phone at ${phone}`, peer, entry));
  const stop = () => void rp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Smart-ID test RP API failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

// Run the Smart-ID test RP API on its own, over HTTPS:
//   node providers/smartid/test-rp-api/main.ts [--port 4300] [--host 127.0.0.1] [--dir var/dev/smartid]
//     [--rp-uuid 00000000-0000-4000-8000-000000000000] [--rp-name DEMO]
// Its CA hierarchy is kept in --dir (created on first start). It prints the provider entry's fields:
// `url`, `ca_certificates`, `tls.ca` and `pinned_certificates`. The phone: <origin>/phone and
// <origin>/control. Development use only.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TestCa } from './ca.ts';
import { startTestRpApi } from './listen.ts';

const usage =
  'usage: node providers/smartid/test-rp-api/main.ts [--port 4300] [--host 127.0.0.1] [--dir var/dev/smartid] [--rp-uuid <uuid>] [--rp-name DEMO]';

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
  process.stdout.write(
    `${JSON.stringify({
      msg: 'Smart-ID test RP API listening',
      url: rp.url,
      phone: rp.controlUrl.replace(/control$/, 'phone'),
      ca_certificates: [join(dir, 'ca.pem')],
      tls: { ca: join(dir, 'rp-api-tls-ca.pem') },
      pinned_certificates: [join(dir, 'rp-api-tls.pem')],
      environment: 'demo',
    })}\n`,
  );
  const stop = () => void rp.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`Smart-ID test RP API failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

// Run the banklink test bank on its own:
//   node providers/banklink/test-bank/main.ts --port 4100 --bank-id TESTBANK --merchant-id VPM \
//     --merchant-cert var/dev/banklink/gateway/certificate.pem --key-dir var/dev/banklink/testbank
// The bank's key and certificate are kept in --key-dir (created on first start); configure the gateway's
// `bank_certificate` with <key-dir>/certificate.pem. Development use only.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NAME_FORMATS, type NameFormat } from '../names.ts';
import { MISBEHAVIOURS, startTestBank, type Misbehaviour } from './bank.ts';
import { loadOrCreateKeyMaterial } from './material.ts';

const usage = `usage: node providers/banklink/test-bank/main.ts --merchant-cert <pem> [--port 4100] [--host 127.0.0.1]
  [--bank-id TESTBANK] [--merchant-id VPM] [--key-dir var/dev/banklink/<bank-id>] [--name <display name>]
  [--name-format ${NAME_FORMATS.join('|')}] [--hash sha512|sha1] [--misbehave ${MISBEHAVIOURS.join('|')}]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

function readArgs() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '4100' },
        host: { type: 'string', default: '127.0.0.1' },
        'bank-id': { type: 'string', default: 'TESTBANK' },
        'merchant-id': { type: 'string', default: 'VPM' },
        'merchant-cert': { type: 'string' },
        'key-dir': { type: 'string' },
        name: { type: 'string' },
        'name-format': { type: 'string', default: 'surname_comma_given' },
        hash: { type: 'string' },
        misbehave: { type: 'string', default: 'none' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    return fail((err as Error).message);
  }
}

async function main(): Promise<void> {
  const values = readArgs();
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be 0-65535');
  if (!values['merchant-cert'])
    fail('--merchant-cert is required (the gateway certificate that verifies its requests)');
  if (!(NAME_FORMATS as readonly string[]).includes(values['name-format']!)) fail('unknown --name-format');
  if (!(MISBEHAVIOURS as readonly string[]).includes(values.misbehave!)) fail('unknown --misbehave');
  if (values.hash !== undefined && values.hash !== 'sha512' && values.hash !== 'sha1')
    fail('--hash must be sha512 or sha1');
  let merchantCertificatePem: string;
  try {
    merchantCertificatePem = readFileSync(values['merchant-cert']!, 'utf8');
  } catch (err) {
    fail(`cannot read ${values['merchant-cert']}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const bankId = values['bank-id']!;
  const keyDir = values['key-dir'] ?? `var/dev/banklink/${bankId.toLowerCase()}`;
  const material = await loadOrCreateKeyMaterial(keyDir, `${bankId} test bank`);
  const bank = await startTestBank({
    port,
    host: values.host!,
    bankId,
    merchantId: values['merchant-id']!,
    merchantCertificatePem,
    material,
    ...(values.name ? { displayName: values.name } : {}),
    nameFormat: values['name-format'] as NameFormat,
    ...(values.hash ? { hash: values.hash as 'sha512' | 'sha1' } : {}),
    misbehave: values.misbehave as Misbehaviour,
  });
  process.stdout.write(
    `${JSON.stringify({
      msg: 'banklink test bank listening',
      url: bank.url,
      bankId,
      certificate: material.certificateFile,
    })}\n`,
  );
  const stop = () => void bank.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`test bank failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

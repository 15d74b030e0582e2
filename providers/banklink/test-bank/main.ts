// Run the banklink test bank on its own:
//   node providers/banklink/test-bank/main.ts --port 4100 --bank-id TESTBANK --merchant-id VPMGW \
//     --merchant-cert var/dev/banklink/gateway/certificate.pem --key-dir var/dev/banklink/testbank
// The bank's key and certificate are kept in --key-dir (created on first start). It prints the provider
// entry to paste at the end of config/demo.yaml (its `bank_certificate` <key-dir>/certificate.pem, its
// `private_key` the key.pem beside --merchant-cert), with its joining record. Development use only.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { NAME_FORMATS, type NameFormat } from '../names.ts';
import { MISBEHAVIOURS, startTestBank, type Misbehaviour } from './bank.ts';
import { loadOrCreateKeyMaterial } from './material.ts';
import { testPeerOutput } from '../../../src/onboarding/test-peer-output.ts';

const usage = `usage: node providers/banklink/test-bank/main.ts --merchant-cert <pem> [--port 4100] [--host 127.0.0.1]
  [--bank-id TESTBANK] [--merchant-id VPMGW] [--key-dir var/dev/banklink/<bank-id>] [--name <display name>]
  [--provider-id test-bank]
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
        // the demo's sender_id (config/demo.yaml), so the printed entry sits beside the demo's banks
        'merchant-id': { type: 'string', default: 'VPMGW' },
        'provider-id': { type: 'string', default: 'test-bank' },
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
  // the demo's gateway is http://localhost: over plain http its browser-binding cookie is SameSite=Lax, so
  // the bank's answer (a cross-site form post) must come from the same site, localhost, not 127.0.0.1
  const url = new URL(bank.url);
  if (['127.0.0.1', '[::1]'].includes(url.hostname)) url.hostname = 'localhost';
  const id = values['provider-id']!;
  const displayName = values.name ?? `${bankId} test bank`;
  const entry = {
    id,
    type: 'banklink',
    name: { lv: displayName, en: displayName },
    kind: 'bank',
    loa: 'substantial',
    url: url.toString(),
    sender_id: values['merchant-id'],
    receiver_id: bankId,
    version: '009',
    ...(values.hash ? { hash: values.hash, legacy: values.hash === 'sha1' } : {}),
    private_key: join(dirname(values['merchant-cert']!), 'key.pem'),
    bank_certificate: material.certificateFile,
    name_format: values['name-format'],
  };
  const peer = { id, name: displayName, kind: 'bank' as const, script: 'test-bank' };
  process.stdout.write(testPeerOutput(`banklink test bank ${bankId} at ${url}`, peer, entry));
  const stop = () => void bank.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`test bank failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});

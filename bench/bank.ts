// The banklink test bank in its own process for `npm run bench` (as `npm run test-bank` runs it): verifies
// the gateway's RSA-2048/SHA-512 signed 4012, asks for the one-time code, answers with a signed 3013.
// Usage (by bench/run.ts): node bench/bank.ts <merchant-certificate.pem> <bank-key-dir> <bank-id> <merchant-id>
import { readFileSync } from 'node:fs';
import { startTestBank } from '../providers/banklink/test-bank/bank.ts';
import { loadOrCreateKeyMaterial } from '../providers/banklink/test-bank/material.ts';

const [merchantCertificate, keyDir, bankId, merchantId] = process.argv.slice(2);
if (!merchantCertificate || !keyDir || !bankId || !merchantId) {
  process.stderr.write('usage: node bench/bank.ts <merchant-certificate.pem> <bank-key-dir> <bank-id> <merchant-id>\n');
  process.exit(2);
}
const material = await loadOrCreateKeyMaterial(keyDir, `${bankId} test bank`);
const bank = await startTestBank({
  bankId,
  merchantId,
  merchantCertificatePem: readFileSync(merchantCertificate, 'utf8'),
  material,
  hash: 'sha512',
});
process.stdout.write(`${JSON.stringify({ msg: 'bench bank listening', url: bank.url })}\n`);
process.send?.({ bench: 'ready', url: bank.url, certificate: material.certificateFile });

// `npm run test-bank -- --merchant-cert FILE` (test-bank/main.ts) prints what a configuration needs to offer
// the bank beside the demo's: the provider entry (the demo's sender_id, a URL on the demo's site) and its
// joining record, or the inline block for a configuration without a registry. Each part, pasted as
// printed, passes `config check`.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { pastesPassConfigCheck, printedParts, runningTestPeer } from '../../test/support/test-peer-paste.ts';
import { standaloneBankArgs } from './test-harness.ts';

const peer = runningTestPeer('providers/banklink/test-bank/main.ts', standaloneBankArgs);

test("the entry is on the demo's site and names the gateway as the demo's banks do", () => {
  const { dir, printed } = peer();
  const [entry] = parse(printedParts(printed).entry) as Record<string, string>[];
  const demo = parse(readFileSync(resolve(import.meta.dirname, '../../config/demo.yaml'), 'utf8'));
  const demoBank = demo.providers.find((p: { id: string }) => p.id === 'demo-bank');
  expect(new URL(entry!.url!).hostname).toBe(new URL(demo.issuer).hostname);
  expect(entry).toMatchObject({
    id: 'test-bank',
    sender_id: demoBank.sender_id,
    receiver_id: 'TESTBANK',
    private_key: join(dir, 'gateway/key.pem'),
    bank_certificate: join(dir, 'testbank/certificate.pem'),
  });
});

pastesPassConfigCheck(peer, 'test-bank');

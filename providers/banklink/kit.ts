// The entry kit of a new bank (`providers scaffold --kind banklink NAME`): its entry's fields, and its
// conformance test against the test bank speaking the entry's protocol settings.
import type { EntryKit } from '../../src/broker/adapter.ts';

export const kit: EntryKit = {
  group: 'bank',
  entry: `    # the bank's banklink address: requests and answers travel as browser form posts
    url: https://ib.NAME.example.lv/banklink
    # VK_SND_ID the bank assigned to the gateway, and the bank's own VK_SND_ID
    sender_id: CHANGE-ME
    receiver_id: CHANGE-ME
    # 009 (SHA-512); 008 is SHA-1 and needs legacy: true
    version: "009"
    # 4012 (answer 3013) or 4011 (answer 3012)
    service: "4012"
    # the gateway's signing key for this bank (RSA 2048+) and the bank's certificate
    private_key: keys/NAME/gateway.key
    bank_certificate: keys/NAME/bank.pem
`,
  settings: 'version, service, hash, encoding',
  peer: { name: 'test bank', module: 'providers/banklink/test-harness.ts', call: 'createHarness' },
  // only the entry's protocol settings reach the test bank (which plays both the bank and its keys)
  setup: `const { version, service, hash, legacy, encoding, length_mode, name_format } = entry;
const settings = { version, service, hash, legacy, encoding, length_mode, name_format };
const protocol = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));

const bankOptions = name_format ? { nameFormat: name_format } : {};
`,
  args: 'protocol, bankOptions',
};

// Adapter kind `banklink`: a Baltic bank's "iPizza" banklink, authentication services 4011/4012 with
// the answers 3012/3013, signed with RSA (VK_VERSION 009, or the legacy 008 with SHA-1).
import type { AdapterFactory } from '../../src/broker/adapter.ts';
import { BanklinkAdapter } from './adapter.ts';
import { banklinkSchema, type BanklinkConfig } from './config.ts';
import { checkBanklink } from './keys.ts';
import { banklinkDemoPeer } from './test-bank/demo.ts';
import { kit } from './kit.ts';

export { BanklinkAdapter } from './adapter.ts';
export { banklinkSchema, type BanklinkConfig } from './config.ts';
export { checkBanklink } from './keys.ts';

export const factory: AdapterFactory<BanklinkConfig> = {
  kind: 'banklink',
  schema: banklinkSchema,
  /** requests and answers travel as browser form posts; the gateway never calls the bank */
  backChannels: () => [],
  check: checkBanklink,
  /** VK_VERSION 008 signs with SHA-1 without naming a hash */
  keyMaterial: (config) =>
    config.version === '008' && config.hash === undefined ? [{ path: ['version'], algorithm: 'sha1' }] : [],
  demoPeer: banklinkDemoPeer,
  kit,
  create: (config, deps) => new BanklinkAdapter(config, deps),
};

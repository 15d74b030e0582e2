// A sound production configuration on a Redis store, for the start-up tests against real servers: TLS and a
// password (production wants both, in `store`), behind a TLS terminator on this host, its own key and audit
// directories under `dir`, and its key set made unless the keys live in the store.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import { stringify } from 'yaml';
import { RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';

let n = 0;

export async function productionRedisFile(
  dir: string,
  store: Record<string, unknown>,
  source: 'dir' | 'store' = 'dir',
): Promise<string> {
  n += 1;
  const file = join(dir, `production-${n}.yaml`);
  writeFileSync(
    file,
    stringify({
      issuer: 'https://gw.example.lv',
      production: true,
      port: 0,
      proxy: ['127.0.0.1'],
      log_level: 'error',
      keys: { source, dir: join(dir, `production-keys-${n}`) },
      audit: { dir: join(dir, `audit-${n}`), signing_key: join(dir, `audit-key-${n}`, 'checkpoint.pem') },
      clients: [{ client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
      providers: [],
      store: { type: 'redis', ...store },
    }),
  );
  // `keys init` touches no Redis with keys.source: dir; with store, the key set would be in the store itself
  if (source === 'dir') expect((await runCli(['keys', 'init', '--config', file])).code).toBe(0);
  return file;
}

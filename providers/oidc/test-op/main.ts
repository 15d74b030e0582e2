// Run the test eID on its own for the demo:
//   node providers/oidc/test-op/main.ts <gateway-base-url> [provider-id] [out-dir]
// It writes the gateway's key files and prints the provider entry to paste under `providers:`.
// Development only: it issues a throwaway CA and logs anyone in who clicks the button.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { startTestOp } from './index.ts';
import { makeGatewayKeyFiles, providerEntry, testOpClient } from './fixtures.ts';

const [gatewayUrl, providerId = 'test-eid', outDir = 'var/test-eid'] = process.argv.slice(2);
if (!gatewayUrl || !/^https?:\/\//.test(gatewayUrl)) {
  process.stderr.write('usage: node providers/oidc/test-op/main.ts <gateway-base-url> [provider-id] [out-dir]\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true, mode: 0o700 });
const keys = await makeGatewayKeyFiles(resolve(outDir));
const op = await startTestOp({ port: Number(process.env.TEST_OP_PORT ?? 0) || 0 });
op.addClient({
  ...testOpClient('client_secret', `${gatewayUrl.replace(/\/$/, '')}/broker/callback/${providerId}`, keys),
  client_id: `${providerId}-client`,
});
const entry = { ...providerEntry(op, 'client_secret', keys, providerId), client_id: `${providerId}-client` };
process.stdout.write(
  `# test eID at ${op.issuer}; provider entry (its TLS files live in a temp dir while this runs):\n${stringify([entry])}`,
);
const stop = () => {
  op.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

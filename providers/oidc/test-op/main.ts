// Run the test eID on its own for the demo:
//   node providers/oidc/test-op/main.ts <gateway-base-url> [provider-id] [out-dir]
// It writes the gateway's key files and prints the provider entry to paste at the end of config/demo.yaml,
// with its joining record for a configuration with a registry (or the inline block for one without).
// Development only: it issues a throwaway CA and logs anyone in who clicks the button.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startTestOp } from './index.ts';
import { makeGatewayKeyFiles, providerEntry, testOpClient } from './fixtures.ts';
import { testPeerOutput } from '../../../src/onboarding/test-peer-output.ts';

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
const { onboarding: _, ...entry } = {
  ...providerEntry(op, 'client_secret', keys, providerId),
  client_id: `${providerId}-client`,
};
// a configuration with a `registry` (the demo's) takes the joining record from its own file, and refuses an
// inline `onboarding` block; one without takes the block
const peer = { id: providerId, name: 'Test eID (OIDC)', kind: 'eid' as const, script: 'test-eid' };
process.stdout.write(
  testPeerOutput(`test eID at ${op.issuer} (its TLS files live in a temp dir while this runs)`, peer, entry),
);
const stop = () => {
  op.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

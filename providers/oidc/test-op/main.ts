// Run the test eID on its own for the demo:
//   node providers/oidc/test-op/main.ts <gateway-base-url> [provider-id] [out-dir]
// It writes the gateway's key files and prints the provider entry to paste under `providers:`, with its
// joining record for a configuration with a registry (or the inline block for one without).
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
const { onboarding, ...entry } = {
  ...providerEntry(op, 'client_secret', keys, providerId),
  client_id: `${providerId}-client`,
};
// a configuration with a `registry` (the demo's) takes the joining record from its own file, and refuses an
// inline `onboarding` block; one without takes the block
const at = (day: number) => `2026-01-${String(day).padStart(2, '0')}T09:00:00Z`;
const steps = ['application', 'review', 'agreement_drafting', 'signing', 'development', 'testing'];
const record = {
  id: providerId,
  adapter: providerId,
  name: 'Test eID (OIDC)',
  legal_kind: 'eid_provider',
  licence: {
    register: 'eid_providers',
    entry: 'TEST-1',
    qualified: true,
    valid_until: '2099-12-31',
    checked_at: '2026-01-02',
    checked_by: 'test-eid',
  },
  free_of_charge: { declared: true },
  two_factor: true,
  contacts: [{ name: 'Test Contact', role: 'technical', email: 'test@example.lv' }],
  revision: steps.length,
  history: steps.map((stage, i) => ({ stage, at: at(i + 1), by: 'test-eid', reason: 'test eID', evidence: [] })),
  decisions: [],
  // testing needs a passing security probe recorded; this throwaway development peer stands in for one,
  // as the demo's records do for their in-process peers
  probe: { at: at(steps.length), ok: true, report: { note: 'throwaway development peer (npm run test-eid)' } },
};
process.stdout.write(
  `# test eID at ${op.issuer} (its TLS files live in a temp dir while this runs)\n` +
    `# 1. the provider entry, under providers:\n${stringify([entry])}` +
    `# 2. with a registry (as config/demo.yaml has): this joining record as <registry dir>/${providerId}.yaml\n` +
    `${stringify(record)
      .split('\n')
      .map((line) => (line ? `#   ${line}` : line))
      .join('\n')}` +
    `# 2'. without a registry: in the entry instead\n${stringify({ onboarding })
      .split('\n')
      .map((line) => (line ? `#   ${line}` : line))
      .join('\n')}`,
);
const stop = () => {
  op.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

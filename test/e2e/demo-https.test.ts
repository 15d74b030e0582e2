// The https demo in one command: `npm run start:https` is `certs dev` (the dev PKI in certs/dev, when
// missing) then `vpm-gateway start` with config/demo-https.yaml, the gateway serving HTTPS itself. Here
// exactly the script's commands run, in a fresh working directory, and the shared demo suite
// (test/e2e/demo-suite.ts) logs in through every demo provider over real TLS, the OIDC test eID's back
// channel (discovery, token, JWKS to the gateway's own server) trusting the dev CA through a provider
// `tls` block with only `ca`. The test's client trusts certs/dev/ca.pem as a developer's browser would.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { trustCa } from '../examples/support.ts';
import { describeDemo, root, runCli } from './demo-suite.ts';

/** `npm run start:https`, as vpm-gateway argument lists (the config path made absolute for another cwd). */
function startHttpsScript(): string[][] {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
    .scripts['start:https']!;
  return script.split(' && ').map((command) => {
    const [node, main, ...args] = command.split(' ');
    expect([node, main]).toEqual(['node', 'src/cli/main.ts']);
    return args.map((a) => (a.endsWith('.yaml') ? join(root, a) : a));
  });
}

const commands = startHttpsScript();
const demo = describeDemo({ scheme: 'https', before: commands.slice(0, -1), start: commands.at(-1)! });

let untrust: () => void;
beforeAll(() => {
  untrust = trustCa(readFileSync(join(demo.cwd, 'certs/dev/ca.pem'), 'utf8'));
});
afterAll(() => untrust?.());

test('npm run start:https creates the dev PKI, then starts config/demo-https.yaml', () => {
  expect(commands).toEqual([
    ['certs', 'dev'],
    ['start', '--config', join(root, 'config/demo-https.yaml')],
  ]);
  expect(demo.base).toMatch(/^https:/);
  // the OIDC test eID's discovery at warm-up went through: no failure logged
  expect(demo.output()).not.toContain('upstream discovery failed');
});

test('config/demo-https.yaml is config/demo.yaml over https: same clients and providers, the OIDC eID trusting the dev CA', () => {
  const read = (f: string) => parse(readFileSync(join(root, f), 'utf8')) as Record<string, unknown>;
  const http = read('config/demo.yaml');
  const https = read('config/demo-https.yaml');
  expect(https.server).toEqual({ tls: { cert: 'certs/dev/server.pem', key: 'certs/dev/server-key.pem' } });
  expect(https.issuer).toBe('https://localhost:3443');
  const providers = (https.providers as Record<string, unknown>[]).map((p) =>
    ['demo-oidc-eid', 'demo-smartid', 'demo-bank', 'demo-legacy-bank'].includes(p.id as string)
      ? { ...p, tls: undefined }
      : p,
  );
  expect(JSON.parse(JSON.stringify(providers))).toEqual(http.providers);
  expect((https.providers as { id: string; tls?: unknown }[]).find((p) => p.id === 'demo-oidc-eid')?.tls).toEqual({
    ca: 'certs/dev/ca.pem',
  });
  for (const key of ['clients', 'demo', 'store', 'keys', 'production'])
    expect([key, https[key]]).toEqual([key, http[key]]);
});

test('a joining provider rehearses the probe on the https demo: the test bank passes it, the chain checked with the dev CA', async () => {
  // a copy of config/ (its registry and logos beside it), so the stored report stays out of the checkout
  const copy = join(demo.cwd, 'config-copy');
  cpSync(join(root, 'config'), copy, { recursive: true });
  // the demo runs on a free port: the bank's ${issuer} URL follows it as the gateway's does
  const env = { PORT: new URL(demo.base).port, ISSUER: demo.base };
  const probed = await runCli(
    ['providers', 'probe', 'demo-bank', '--config', join(copy, 'demo-https.yaml')],
    demo.cwd,
    env,
  );
  expect(probed.output).toContain('demo-bank: security probe PASSED');
  expect(probed.output).toMatch(/ok {3}chain {9}verifies/);
  expect(probed.code).toBe(0);
});

test('without its tls block the https demo OIDC eID is refused by config check and at start, not offered broken', async () => {
  const config = readFileSync(join(root, 'config/demo-https.yaml'), 'utf8');
  const line = '    tls: { ca: certs/dev/ca.pem }\n';
  // the OIDC eID's own line (the test banks carry the same one)
  const at = config.indexOf(line, config.indexOf('- id: demo-oidc-eid'));
  expect(at).toBeGreaterThan(0);
  const file = join(demo.cwd, 'no-tls.yaml');
  writeFileSync(file, config.slice(0, at) + config.slice(at + line.length));
  const refusal =
    'provider demo-oidc-eid: the demo OIDC eID is served by this gateway over https (https://localhost:3443/demo/oidc-eid), so its entry needs tls: { ca: <the CA of server.tls> }';
  // refused before the audit log is opened: the running demo's writer lock on var/audit is never reached
  const started = await runCli(['start', '--config', file], demo.cwd);
  expect(started.code).toBe(1);
  expect(started.output).toContain(refusal);
  const checked = await runCli(['config', 'check', file], demo.cwd);
  expect(checked.code).toBe(1);
  expect(checked.output).toContain(refusal);
});

// `vpm-gateway providers probe` against a real TLS server: a passing report is stored with the registry
// record and lets the provider into testing, a failing one is stored and printed and keeps testing closed,
// and a key file not there yet is named by its entry path (./probe-endpoints.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { productionOidcEntry } from '../support/provider-entries.ts';
import { record, writeRegistry } from './fixtures.ts';
import { pki, useProbeCa, provider } from './probe-endpoints.ts';

useProbeCa();

describe('vpm-gateway providers probe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-joining-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setUp(port: number) {
    const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') };
    writeFileSync(files.ca, pki.ca.cert);
    writeFileSync(files.cert, pki.client.cert);
    writeFileSync(files.key, pki.client.key);
    const entry = productionOidcEntry(files, { id: 'eid-x', issuer: `https://127.0.0.1:${port}` });
    const { onboarding: _, ...governed } = entry;
    const registry = writeRegistry(join(dir, `registry-${port}`), [record('eid-x', 'development')]);
    const config = join(dir, `gateway-${port}.yaml`);
    const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
    writeFileSync(
      config,
      stringify({ issuer: 'http://127.0.0.1:1', providers: [governed], registry: { dir: registry }, audit }),
    );
    return { registry, config };
  }

  test('a passing report is stored with the record and opens the way to testing', async () => {
    const { registry, config } = await setUp(await provider());
    const r = await runCli(['providers', 'probe', 'eid-x', '-c', config, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ provider: 'eid-x', ok: true, material: { ok: true }, audit: { ok: true } });
    expect(report.endpoints).toHaveLength(1);
    const stored = parse((await import('node:fs')).readFileSync(join(registry, 'eid-x.yaml'), 'utf8'));
    expect(stored.probe).toMatchObject({ ok: true, at: report.at });
    expect(stored.revision).toBe(6);
    const moved = await runCli([
      'providers',
      'transition',
      'eid-x',
      'testing',
      '-c',
      config,
      '--reason',
      'probe passed',
    ]);
    expect(moved.code).toBe(0);
  });

  test('a key or certificate file not there yet is named with its entry path, not as a bare ENOENT', async () => {
    const { config } = await setUp(await provider());
    const caFile = join(dir, 'ca.pem');
    rmSync(caFile);
    try {
      const r = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `providers probe: eid-x: tls.ca: cannot read file ${caFile} (ENOENT): nothing probed, nothing stored\n`,
      );
      expect(r.stderr).not.toMatch(/^vpm-gateway: ENOENT/m);
    } finally {
      writeFileSync(caFile, pki.ca.cert);
    }
  });

  test('a failing report is stored too, printed for people, and testing stays closed', async () => {
    const { config } = await setUp(await provider({}, { requestCert: false, rejectUnauthorized: false }));
    const r = await runCli(['providers', 'probe', 'eid-x', '-c', config]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('security probe FAILED');
    expect(r.stdout).toMatch(/FAIL mutual_auth\s+serves a connection without a client certificate/);
    const moved = await runCli(['providers', 'transition', 'eid-x', 'testing', '-c', config, '--reason', 'try']);
    expect(moved).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('probe: testing needs a passing security probe'),
    });
  });
});

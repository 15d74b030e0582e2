// Configuration of a smartid entry as `config check` and `start` read it: what the schema refuses, what
// production refuses (each naming its path), and that create() refuses what check refuses.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { configFindings } from '../../src/config/check.ts';
import { type ConfigError, parseConfig } from '../../src/config/load.ts';
import { AdapterConfigError } from '../../src/registry/factory.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { adapterDeps } from '../../test/support/broker.ts';
import { inProduction, SMARTID_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { factory } from './index.ts';
import { TestCa } from './test-rp-api/ca.ts';

let dir: string;
let files: { ca: string; leaf: string; tlsCa: string; leafKey: string };

const UUID = 'a0c4d3f6-1b2e-4c5d-9e8f-0123456789ab';
beforeAll(async () => {
  // secrets given as { env } are read from the process environment
  process.env.SMARTID_RP_UUID = UUID;
  dir = mkdtempSync(join(tmpdir(), 'smartid-config-'));
  const ca = await TestCa.create();
  const server = await ca.issueServer();
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  files = {
    ca: write('sk-ca.pem', ca.pem),
    leaf: write('rp-api.pem', server.certPem),
    tlsCa: write('tls-ca.pem', ca.root.cert.toString('pem')),
    // the RP API leaf's public key as PEM (BEGIN PUBLIC KEY), not its certificate
    leafKey: write(
      'rp-api-key.pem',
      new X509Certificate(server.certPem).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ),
  };
});
afterAll(() => {
  delete process.env.SMARTID_RP_UUID;
  rmSync(dir, { recursive: true, force: true });
});

const live = () => ({
  ...inProduction(SMARTID_TEST_ENTRY),
  url: 'https://rp-api.smart-id.com/v3',
  environment: 'live',
  relying_party_uuid: { env: 'SMARTID_RP_UUID' },
  ca_certificates: [files.ca],
  tls: { ca: files.tlsCa },
  pinned_certificates: [files.leaf],
});

function load(entry: Record<string, unknown>, env: Record<string, string> = {}) {
  const doc = {
    issuer: 'https://vpm.example.lv',
    production: true,
    proxy: ['10.0.0.5'],
    cookie_keys: ['k'.repeat(40)],
    clients: [{ client_id: 'svc', client_secret: 's'.repeat(40), redirect_uris: ['https://svc.example.lv/cb'] }],
    providers: [entry],
  };
  return parseConfig(stringify(doc), 'test.yaml', { factories: ADAPTER_FACTORIES, env });
}

async function providerErrors(entry: Record<string, unknown>): Promise<string[]> {
  const { errors } = await configFindings(load(entry), { env: {} });
  return errors.filter((e) => e.startsWith('providers[0]'));
}

test('a live entry with its CA set, TLS CA and pinned certificates passes production; the UUID comes from the environment', async () => {
  expect(await providerErrors(live())).toEqual([]);
  expect(load(live()).providers[0]!.config).toMatchObject({
    relying_party_uuid: 'a0c4d3f6-1b2e-4c5d-9e8f-0123456789ab',
    url: 'https://rp-api.smart-id.com/v3/',
  });
});

test('production refuses plain http, no TLS block, no pins and the demo environment, each by its path', async () => {
  const { tls: _tls, pinned_certificates: _pins, ...bare } = live();
  const errors = await providerErrors({ ...bare, url: 'http://rp-api.example/v3/', environment: 'demo' });
  expect(errors).toEqual(
    expect.arrayContaining([
      'providers[0].url: must be https in production',
      'providers[0].tls: the RP API needs a tls block with its CA in production',
      expect.stringMatching(/^providers\[0\]\.pinned_certificates: the RP API's TLS certificates must be pinned/),
      "providers[0].environment: SK's demo environment is refused in production",
    ]),
  );
  await expect(
    factory.create(factory.schema.parse({ ...bare, relying_party_uuid: 'a0c4d3f6-1b2e-4c5d-9e8f-0123456789ab' }), {
      ...adapterDeps(dir),
      production: true,
    }),
  ).rejects.toBeInstanceOf(AdapterConfigError);
});

test('a CA set holding a leaf certificate is refused, in development too', async () => {
  const entry = { ...live(), ca_certificates: [files.ca, files.leaf] };
  expect(await providerErrors(entry)).toEqual([
    'providers[0].ca_certificates[1]: must hold CA certificates only (the SK issuing CAs)',
  ]);
  expect(
    factory.check!(factory.schema.parse({ ...entry, relying_party_uuid: 'a0c4d3f6-1b2e-4c5d-9e8f-0123456789ab' }), {
      production: false,
      baseUrl: 'http://x',
    }),
  ).toHaveLength(1);
});

test('the schema refuses a relying-party name over 32 bytes, a UUID that is none, a missing variable and no CA set', () => {
  const problems = (entry: Record<string, unknown>, env?: Record<string, string>) => {
    try {
      load(entry, env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  expect(problems({ ...live(), relying_party_name: 'Ā'.repeat(17) }).join()).toContain(
    'providers[0].relying_party_name: must be at most 32 bytes',
  );
  expect(problems({ ...live(), relying_party_uuid: 'not-a-uuid' }).join()).toContain('providers[0].relying_party_uuid');
  expect(problems({ ...live(), relying_party_uuid: { env: 'SMARTID_RP_UUID_UNSET' } }).join()).toContain(
    'environment variable SMARTID_RP_UUID_UNSET is not set',
  );
  expect(problems({ ...live(), ca_certificates: [] }).join()).toContain('providers[0].ca_certificates');
});

describe('pinned_certificates that would pin nothing are refused, in development too', () => {
  const dev = { production: false, baseUrl: 'http://x' };
  const parsed = (entry: Record<string, unknown>) =>
    factory.schema.parse({ ...entry, relying_party_uuid: 'a0c4d3f6-1b2e-4c5d-9e8f-0123456789ab' });

  test('a file holding a PUBLIC KEY, not a certificate: refused by its path; no adapter is made of it', async () => {
    const entry = { ...live(), pinned_certificates: [files.leaf, files.leafKey] };
    expect(await providerErrors(entry)).toEqual([
      expect.stringMatching(
        /^providers\[0\]\.pinned_certificates\[1\]: must hold the RP API's TLS certificates as PEM/,
      ),
    ]);
    expect(factory.check!(parsed(entry), dev)).toEqual([expect.objectContaining({ path: ['pinned_certificates', 1] })]);
    await expect(factory.create(parsed(entry), adapterDeps(dir))).rejects.toBeInstanceOf(AdapterConfigError);
  });

  test('pinned certificates without a tls block: refused, since only the tls channel checks pins', async () => {
    const { tls: _tls, ...entry } = live();
    expect(factory.check!(parsed(entry), dev)).toEqual([
      expect.objectContaining({ path: ['pinned_certificates'], message: expect.stringContaining('needs a tls block') }),
    ]);
    await expect(factory.create(parsed(entry), adapterDeps(dir))).rejects.toBeInstanceOf(AdapterConfigError);
  });
});

test('a production entry without ocsp starts with a warning that revocation is not checked; with ocsp, none', async () => {
  const started = async (entry: Record<string, unknown>) => {
    const deps = { ...adapterDeps(dir), production: true };
    const adapter = await factory.create(factory.schema.parse({ ...entry, relying_party_uuid: UUID }), deps);
    await adapter.close?.();
    return deps.logger.lines.filter((l) => l.includes('revocation not checked'));
  };
  const [line] = await started(live());
  expect(JSON.parse(line!)).toMatchObject({
    level: 'warn',
    providerId: 'smartid',
    reason: expect.stringMatching(/no ocsp/),
  });
  expect(await started({ ...live(), ocsp: { url: 'http://ocsp.sk.ee' } })).toEqual([]);
});

test('notification_limit: 3 starts per 300 s per person unless set; starts 1..20 and window_seconds 60..86400, each refused by its path', () => {
  const problems = (limit: unknown) => {
    try {
      load({ ...live(), notification_limit: limit });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  expect(load(live()).providers[0]!.config).toMatchObject({ notification_limit: { starts: 3, window_seconds: 300 } });
  expect(load({ ...live(), notification_limit: { starts: 5 } }).providers[0]!.config).toMatchObject({
    notification_limit: { starts: 5, window_seconds: 300 },
  });
  expect(problems({ starts: 0 }).join()).toContain('providers[0].notification_limit.starts');
  expect(problems({ starts: 21 }).join()).toContain('providers[0].notification_limit.starts');
  expect(problems({ starts: 2.5 }).join()).toContain('providers[0].notification_limit.starts');
  expect(problems({ window_seconds: 59 }).join()).toContain('providers[0].notification_limit.window_seconds');
  expect(problems({ window_seconds: 86_401 }).join()).toContain('providers[0].notification_limit.window_seconds');
  expect(problems({ per_address: 1 }).join()).toContain('providers[0].notification_limit');
});

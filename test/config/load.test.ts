import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseConfig, ConfigError, loadConfigFile } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { eligibility } from '../../src/registry/onboarding.ts';
import { main } from '../../src/cli/main.ts';
import { MOCK_PROVIDER, MOCK_BANK } from '../support/gateway.ts';

const base = {
  issuer: 'https://vpm.example.lv',
  clients: [{ client_id: 'svc', client_secret: 's'.repeat(40), redirect_uris: ['https://svc.example.lv/cb'] }],
  providers: [MOCK_PROVIDER],
};

const problems = (doc: unknown, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parseConfig(typeof doc === 'string' ? doc : stringify(doc), 'x.yaml', { factories: ADAPTER_FACTORIES, env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

test('a valid file loads with defaults filled in', () => {
  const c = parseConfig(stringify(base), 'x.yaml', { factories: ADAPTER_FACTORIES, env: {} });
  expect(c.store).toEqual({ type: 'memory', max_bytes: 256 * 1024 * 1024 });
  expect(c.clients[0]!.token_endpoint_auth_method).toBe('client_secret_basic');
  expect(c.providers[0]!.factory.kind).toBe('mock');
  expect(c.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
});

test('store.max_bytes: whole bytes from 64 KiB, for the memory store only (a Redis has its maxmemory)', () => {
  expect(
    parseConfig(stringify({ ...base, store: { type: 'memory', max_bytes: 65536 } }), 'x.yaml', {
      factories: ADAPTER_FACTORIES,
      env: {},
    }).store,
  ).toEqual({ type: 'memory', max_bytes: 65536 });
  expect(problems({ ...base, store: { type: 'memory', max_bytes: 65535 } })).toEqual([
    'store.max_bytes: Too small: expected number to be >=65536',
  ]);
  expect(problems({ ...base, store: { type: 'memory', max_bytes: 100000.5 } })).toEqual([
    'store.max_bytes: Invalid input: expected int, received number',
  ]);
  expect(problems({ ...base, store: { type: 'redis', url: 'redis://127.0.0.1:6379', max_bytes: 65536 } })).toEqual([
    'store: Unrecognized key: "max_bytes"',
  ]);
});

test('each error names the exact path', () => {
  const doc = {
    ...base,
    production: true,
    clients: [
      base.clients[0],
      { client_id: 'svc2', client_secret: 'short', redirect_uris: ['https://ok.example/cb', 'http://svc2.example/cb'] },
    ],
    providers: [{ ...MOCK_PROVIDER, loa: 'medium' }, { ...MOCK_PROVIDER, id: 'Bad Id' }, { type: 'carrier-pigeon' }],
  };
  expect(problems(doc)).toEqual(
    expect.arrayContaining([
      'clients[1].redirect_uris[1]: must be https in production',
      'clients[1].client_secret: must be at least 32 characters in production',
      expect.stringMatching(/^providers\[0\]\.loa: /),
      expect.stringMatching(/^providers\[1\]\.id: must be 1-30 lower-case/),
      `providers[2].type: must be one of ${[...ADAPTER_FACTORIES.keys()].join(', ')}`,
    ]),
  );
});

test('secrets from the environment and files; a missing one is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-cfg-'));
  writeFileSync(join(dir, 'secret'), `${'f'.repeat(40)}\n`);
  const doc = {
    ...base,
    clients: [
      { ...base.clients[0], client_secret: { file: join(dir, 'secret') } },
      { client_id: 'svc3', client_secret: { env: 'SVC3_SECRET' }, redirect_uris: ['https://x.example/cb'] },
    ],
  };
  expect(problems(doc)).toEqual(['clients[1].client_secret: environment variable SVC3_SECRET is not set']);
  process.env.SVC3_SECRET = 'e'.repeat(40);
  const c = parseConfig(stringify(doc), 'x.yaml', { factories: ADAPTER_FACTORIES, env: {} });
  delete process.env.SVC3_SECRET;
  expect(c.clients.map((cl) => cl.client_secret)).toEqual(['f'.repeat(40), 'e'.repeat(40)]);
});

test('PORT and ISSUER override the file; a bad PORT is refused', () => {
  const c = parseConfig(stringify(base), 'x.yaml', {
    factories: ADAPTER_FACTORIES,
    env: { PORT: '8080', ISSUER: 'https://other.example' },
  });
  expect(c.port).toBe(8080);
  expect(c.issuer).toBe('https://other.example');
  for (const odd of ['eighty', ' 3923', '3923 ', '+3923', '3e3', '0x50', '65536', '-1', '3923.0'])
    expect(problems(base, { PORT: odd })).toEqual([
      `PORT: must be a port number from 1 to 65535 (or 0: any free port), got ${JSON.stringify(odd)}`,
    ]);
  // set but empty (`PORT=`, an env file's line) is unset, as a shell takes it: the file's port and issuer stay
  const empty = parseConfig(stringify({ ...base, port: 4100 }), 'x.yaml', {
    factories: ADAPTER_FACTORIES,
    env: { PORT: '' },
  });
  expect({ port: empty.port, issuer: empty.issuer }).toEqual({ port: 4100, issuer: base.issuer });
});

test('PORT alone moves a loopback issuer served on the file port, and every URL built on it; other issuers stay', () => {
  const local = {
    ...base,
    issuer: 'http://localhost:3000',
    port: 3000,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: `${issuer}` is the config file's own placeholder
    clients: [{ ...base.clients[0], redirect_uris: ['${issuer}/demo/callback'] }],
  };
  const load = (doc: unknown, env: NodeJS.ProcessEnv) =>
    parseConfig(stringify(doc), 'x.yaml', { factories: ADAPTER_FACTORIES, env });
  const moved = load(local, { PORT: '4000' });
  expect(moved.issuer).toBe('http://localhost:4000');
  expect(moved.clients[0]!.redirect_uris).toEqual(['http://localhost:4000/demo/callback']);
  // the file's port is the default 3000 when it names none
  const { port: _, ...noPort } = local;
  expect(load(noPort, { PORT: '4000' }).issuer).toBe('http://localhost:4000');
  // ISSUER, when given, is the issuer whatever PORT says
  expect(load(local, { PORT: '4000', ISSUER: 'http://127.0.0.1:4000' }).issuer).toBe('http://127.0.0.1:4000');
  // a public issuer (behind a proxy) or a loopback issuer on another port than the gateway's is left alone
  expect(load(base, { PORT: '4000' }).issuer).toBe('https://vpm.example.lv');
  expect(load({ ...local, issuer: 'http://localhost:8080' }, { PORT: '4000' }).issuer).toBe('http://localhost:8080');
  // PORT=0 (any free port) cannot be known in advance
  expect(load(local, { PORT: '0' }).issuer).toBe('http://localhost:3000');
});

test('VPM_HOST sets server.host (the bind address), beside whatever server settings the file has', () => {
  const load = (config: object) =>
    parseConfig(stringify(config), 'x.yaml', { factories: ADAPTER_FACTORIES, env: { VPM_HOST: '0.0.0.0' } });
  expect(load(base).server?.host).toBe('0.0.0.0');
  const withServer = load({ ...base, server: { host: '127.0.0.1', shutdown_timeout: 5 } }).server;
  expect(withServer).toMatchObject({ host: '0.0.0.0', shutdown_timeout: 5 });
});

test('malformed YAML, duplicate keys, unknown keys and non-mappings are clear errors', () => {
  expect(problems('issuer: [unclosed')[0]).toMatch(/^x\.yaml: /);
  expect(problems('issuer: a\nissuer: b\n')[0]).toMatch(/^x\.yaml: Map keys must be unique/);
  expect(problems('- a\n- b\n')).toEqual(['x.yaml: must be a mapping of settings']);
  expect(problems({ ...base, isuer: 'typo' })).toEqual([expect.stringMatching(/isuer/)]);
});

test('cross references: unknown provider in a client, duplicate ids, pairwise without salt or with the personal code', () => {
  const doc = {
    ...base,
    clients: [{ ...base.clients[0], providers: ['nope'], subject_type: 'pairwise' }, base.clients[0]],
    providers: [MOCK_PROVIDER, MOCK_PROVIDER],
  };
  expect(problems(doc)).toEqual(
    expect.arrayContaining([
      'clients[0].providers[0]: unknown provider "nope"',
      'clients[1].client_id: duplicate client id "svc"',
      'providers[1].id: duplicate provider id "mock-eid"',
      'pairwise_salt: required when a client uses subject_type pairwise',
      // its scopes default to profile and personal_code
      'clients[0].scopes: a pairwise client must not be offered personal_code (list its scopes without it)',
    ]),
  );
  const pairwise = { ...base.clients[0], subject_type: 'pairwise', scopes: ['profile'] };
  expect(problems({ ...base, pairwise_salt: 'p'.repeat(32), clients: [pairwise] })).toEqual([]);
});

test('the VPM joining rules decide which providers may be offered', () => {
  const today = new Date('2026-11-25');
  expect(eligibility(MOCK_BANK as never, true, today)).toEqual({ eligible: true, reasons: [] });
  const unlicensed = { ...MOCK_BANK, onboarding: { ...MOCK_BANK.onboarding, licence: undefined } };
  expect(eligibility(unlicensed as never, true, today).reasons).toEqual([
    'onboarding.licence: a bank needs an active credit institution licence',
  ]);
  const expired = {
    ...MOCK_BANK,
    onboarding: { ...MOCK_BANK.onboarding, licence: { number: 'x', valid_until: '2026-01-01' } },
  };
  expect(eligibility(expired as never, true, today).reasons[0]).toMatch(/licence expired/);
  const paid = { ...MOCK_PROVIDER, onboarding: { ...MOCK_PROVIDER.onboarding, free_of_charge: false } };
  expect(eligibility(paid as never, true, today).reasons).toEqual([
    'onboarding.free_of_charge: the service must be free of charge',
  ]);
  const unqualified = {
    ...MOCK_PROVIDER,
    onboarding: { ...MOCK_PROVIDER.onboarding, eid_register: { entry: 'x', qualified: false } },
  };
  expect(eligibility(unqualified as never, true, today).reasons[0]).toMatch(/not a qualified/);
  const testing = { ...MOCK_PROVIDER, onboarding: { ...MOCK_PROVIDER.onboarding, stage: 'testing' } };
  expect(eligibility(testing as never, true, today).eligible).toBe(false);
  expect(eligibility(testing as never, false, today).eligible).toBe(true);
  const signing = { ...MOCK_PROVIDER, onboarding: { ...MOCK_PROVIDER.onboarding, stage: 'signing' } };
  expect(eligibility(signing as never, false, today).reasons).toEqual([
    'onboarding.stage: signing is not yet testing or production',
  ]);
});

test('`vpm-gateway config check` exits 0 for the demo file and 1 with the paths for a bad one', async () => {
  const out: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
  expect(await main(['config', 'check', 'config/demo.yaml'], io)).toBe(0);
  const dir = mkdtempSync(join(tmpdir(), 'vpm-cfg-'));
  writeFileSync(
    join(dir, 'bad.yaml'),
    stringify({ ...base, clients: [{ client_id: 'svc', redirect_uris: ['not a url'] }] }),
  );
  out.length = 0;
  expect(await main(['config', 'check', join(dir, 'bad.yaml')], io)).toBe(1);
  expect(out.join('')).toContain('clients[0].redirect_uris[0]: must be an http(s) URL');
  expect(() => loadConfigFile(join(dir, 'missing.yaml'), { factories: ADAPTER_FACTORIES })).toThrow(
    /cannot read configuration file \(ENOENT\)/,
  );
});

test('`config check` warns of a public-subject service not given personal_code: its sub carries the code', async () => {
  const out: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
  const dir = mkdtempSync(join(tmpdir(), 'vpm-cfg-'));
  const names = { ...base.clients[0], client_id: 'names-only', scopes: ['profile'] };
  const pairwise = { ...base.clients[0], client_id: 'pairwise', subject_type: 'pairwise', scopes: ['profile'] };
  writeFileSync(
    join(dir, 'gateway.yaml'),
    stringify({ ...base, pairwise_salt: 'p'.repeat(32), clients: [base.clients[0], names, pairwise] }),
  );
  expect(await main(['config', 'check', join(dir, 'gateway.yaml')], io)).toBe(0);
  const warnings = out
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('warning: clients'));
  expect(warnings).toEqual([
    'warning: clients[1].subject_type: names-only is not given personal_code, yet its public sub (PNOLV-<code>) carries the code: set subject_type: pairwise (with pairwise_salt) if it must not learn it',
  ]);
});

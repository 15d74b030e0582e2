// Availability by stage against running gateways: production providers for every service, testing
// providers for `test: true` services only, other stages for nobody; a suspension made with
// `vpm-gateway providers transition` taking effect on two instances sharing Redis (and on one instance
// without), and ending a login already under way with the suspended provider.
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import type * as oidc from 'openid-client';
import { SecurityCheckError } from '../../src/tls/security-checks.ts';
import { runCli } from '../support/cli.ts';
import {
  atRp,
  beginLogin,
  chooseProvider,
  mockProviderLogin,
  RP_REDIRECT,
  rpConfig,
  startGateway,
  type TestGateway,
  type WatchedAuditLog,
} from '../support/gateway.ts';
import { MOCK_PROVIDER } from '../support/provider-entries.ts';
import { record, REGISTRY_PROVIDERS, TEST_CLIENT, writeRegistry } from './fixtures.ts';
import { type SharedInstances, startSharedInstances } from './shared-instances.ts';

/** The providers the selection page offers this service (ids as the page carries them). */
async function offered(config: oidc.Configuration): Promise<string[]> {
  const started = await beginLogin(config);
  const page = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  expect(page.status).toBe(200);
  return ['mock-eid', 'mock-bank'].filter((id) => page.body.includes(`"${id}"`));
}

/** The authorization request with idp_hint: on to the provider, or the OAuth error at the service. */
async function hinted(config: oidc.Configuration, provider: string): Promise<string> {
  const started = await beginLogin(config, { idp_hint: provider });
  const hop = await started.browser.follow(started.hop, (h) => atRp(h) || !!h.location?.includes('/providers/'));
  return atRp(hop) ? `error=${new URL(hop.location!).searchParams.get('error')}` : 'to the provider';
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('availability by stage', () => {
  let gw: TestGateway;
  let rp: oidc.Configuration;
  let tester: oidc.Configuration;
  beforeAll(async () => {
    const registry = writeRegistry(join(dir, 'stages'), [
      record('mock-eid', 'production'),
      record('mock-bank', 'testing'),
    ]);
    gw = await startGateway({
      providers: REGISTRY_PROVIDERS,
      clients: [TEST_CLIENT],
      settings: { registry: { dir: registry } },
    });
    rp = await rpConfig(gw.issuer);
    tester = await rpConfig(gw.issuer, TEST_CLIENT.client_id, TEST_CLIENT.client_secret);
  });
  afterAll(() => gw.close());

  test('a test: true service sees the testing provider, another service does not', async () => {
    expect(await offered(tester)).toEqual(['mock-eid', 'mock-bank']);
    expect(await offered(rp)).toEqual(['mock-eid']);
    expect(await hinted(tester, 'mock-bank')).toBe('to the provider');
    expect(await hinted(rp, 'mock-bank')).toBe('error=invalid_request');
    expect(await hinted(rp, 'mock-eid')).toBe('to the provider');
  });

  test("start-up records each provider's stage and who it is offered to", () => {
    const events = (gw.audit as WatchedAuditLog).events.filter((e) => e.type === 'registry_change');
    expect(events.map((e) => [e.providerId, e.detail?.stage, e.detail?.audience, e.detail?.revision])).toEqual([
      ['mock-eid', 'production', 'all', 7],
      ['mock-bank', 'testing', 'test', 6],
    ]);
  });
});

test('a stage before testing, a refusal or lapsed terms offer the provider to nobody, test services included', async () => {
  const expired = record('mock-eid', 'production');
  expired.licence = { ...expired.licence!, valid_until: '2020-01-01' };
  const registry = writeRegistry(join(dir, 'nobody'), [expired, record('mock-bank', 'development')]);
  const gw = await startGateway({
    providers: REGISTRY_PROVIDERS,
    clients: [TEST_CLIENT],
    settings: { registry: { dir: registry } },
  });
  try {
    const tester = await rpConfig(gw.issuer, TEST_CLIENT.client_id, TEST_CLIENT.client_secret);
    expect(await offered(tester)).toEqual([]);
    expect(gw.gateway.adapters.size).toBe(0);
  } finally {
    await gw.close();
  }
  const refused = writeRegistry(join(dir, 'refused'), [
    record('mock-eid', 'refused'),
    record('mock-bank', 'production'),
  ]);
  const again = await startGateway({
    providers: REGISTRY_PROVIDERS,
    clients: [TEST_CLIENT],
    settings: { registry: { dir: refused } },
  });
  try {
    expect(await offered(await rpConfig(again.issuer, TEST_CLIENT.client_id, TEST_CLIENT.client_secret))).toEqual([
      'mock-bank',
    ]);
  } finally {
    await again.close();
  }
});

test('start refuses a registry that disagrees with the configuration, naming each file and entry', async () => {
  const registry = writeRegistry(join(dir, 'disagree'), [record('mock-eid', 'production')]);
  writeFileSync(join(registry, 'stray.yaml'), stringify({ ...record('other', 'review'), contacts: [] }));
  const start = startGateway({
    providers: [MOCK_PROVIDER, REGISTRY_PROVIDERS[1]!],
    settings: { registry: { dir: registry } },
  });
  // refused as every other finding of the checks start runs (src/config/check.ts), in one list
  await expect(start).rejects.toBeInstanceOf(SecurityCheckError);
  await expect(start).rejects.toMatchObject({
    problems: [
      `${registry}/stray.yaml: contacts: Too small: expected array to have >=1 items`,
      "providers[0].onboarding: with a registry the provider's record decides; remove this block (one source of truth)",
      `providers[1]: no record in ${registry} names "mock-bank" as its adapter`,
    ],
  });
});

test("start refuses a record whose legal kind is not its entry's kind: a bank is a credit institution", async () => {
  const eidProvider = record('mock-bank', 'production', {
    legal_kind: 'eid_provider',
    licence: { register: 'eid_providers', entry: 'MOD-1', qualified: true, checked_at: '2026-01-05', checked_by: 'x' },
  });
  const registry = writeRegistry(join(dir, 'kinds'), [record('mock-eid', 'production'), eidProvider]);
  const start = startGateway({ providers: REGISTRY_PROVIDERS, settings: { registry: { dir: registry } } });
  await expect(start).rejects.toMatchObject({
    problems: [
      `${registry}/mock-bank.yaml: legal_kind: eid_provider, but providers[] entry "mock-bank" is of kind bank (kind bank needs a credit_institution, kind eid an eid_provider)`,
    ],
  });
});

describe('suspension on two instances sharing Redis', () => {
  const prefix = `vpm-joining-${randomBytes(4).toString('hex')}:`;
  let configFile: string;
  let a: TestGateway;
  let b: TestGateway;
  let instances: SharedInstances;
  beforeAll(async () => {
    const registry = writeRegistry(join(dir, 'shared'), [
      record('mock-eid', 'production'),
      record('mock-bank', 'production'),
    ]);
    // the operator's command works from the same configuration; a running gateway holds its audit log
    instances = await startSharedInstances({ dir, registry, prefix, pollSeconds: 1, configName: 'shared.yaml' });
    ({ a, b, configFile } = instances);
  });
  afterAll(async () => {
    const keys = ['registry:version', 'registry:record:mock-eid', 'registry:record:mock-bank'];
    // with each revision's copy (src/onboarding/published.ts)
    const copies = ['registry:record:mock-eid:7', ...[7, 8, 9].map((r) => `registry:record:mock-bank:${r}`)];
    await instances?.close([...keys, ...copies, 'registry:audited:mock-bank:8', 'registry:audited:mock-bank:9']);
  });

  const applied = (gw: TestGateway) => once(gw.gateway.registry!, 'applied');
  const changes = (gw: TestGateway, revision: number) =>
    (gw.audit as WatchedAuditLog).events.filter((e) => e.type === 'registry_change' && e.detail?.revision === revision);

  test('suspended on both, a login under way with it ended with a clear message; resumed on both', async () => {
    const rpA = await rpConfig(a.issuer);
    const rpB = await rpConfig(b.issuer);
    // a citizen is at the bank when the agency suspends it
    const started = await beginLogin(rpA);
    const page = await started.browser.follow(started.hop, (h) => h.status === 200);
    const atBank = await chooseProvider(started.browser, page.url, 'mock-bank');
    expect(atBank.location).toContain('/providers/mock-bank/');

    const bothApplied = Promise.all([applied(a), applied(b)]);
    const suspend = await runCli([
      'providers',
      'transition',
      'mock-bank',
      'suspended',
      '--config',
      configFile,
      '--reason',
      'signing certificate compromised',
      '--by',
      'Agency security officer',
      '--json',
    ]);
    expect(suspend).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(suspend.stdout)).toMatchObject({
      stage: 'suspended',
      from: 'production',
      revision: 8,
      audited: 'by the running gateway',
    });
    expect(await bothApplied).toEqual([[['mock-bank']], [['mock-bank']]]);

    expect(await offered(rpA)).toEqual(['mock-eid']);
    expect(await offered(rpB)).toEqual(['mock-eid']);
    expect(await hinted(rpB, 'mock-bank')).toBe('error=invalid_request');
    // exactly one instance recorded the change, with who and why
    const recorded = [...changes(a, 8), ...changes(b, 8)];
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      providerId: 'mock-bank',
      detail: {
        stage: 'suspended',
        from: 'production',
        by: 'Agency security officer',
        reason: 'signing certificate compromised',
      },
    });

    // the citizen comes back from the bank: told the provider is unavailable, the service hears why
    const back = await mockProviderLogin(started.browser, atBank, 0);
    const shown = await started.browser.follow(back, (h) => h.status !== 302 && h.status !== 303);
    expect(shown.status).toBe(400);
    expect(shown.body).toContain('The provider is temporarily unavailable');
    const onward = /href="([^"]*\/complete)"/.exec(shown.body)?.[1];
    expect(onward).toBeDefined();
    const atService = await started.browser.follow(
      await started.browser.get(new URL(onward!, a.issuer).toString()),
      atRp,
    );
    const answer = new URL(atService.location!);
    expect(`${answer.origin}${answer.pathname}`).toBe(RP_REDIRECT);
    expect(answer.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(answer.searchParams.get('code')).toBeNull();
    // the operator sees why that login ended, on the instance that ended it
    const ended = (a.audit as WatchedAuditLog).events.find((e) => e.type === 'verification_error');
    expect(ended).toMatchObject({ providerId: 'mock-bank', detail: { code: 'temporarily_unavailable' } });
    expect(String(ended?.detail?.reason)).toContain('suspended');

    const resumedOnBoth = Promise.all([applied(a), applied(b)]);
    const resume = await runCli([
      'providers',
      'transition',
      'mock-bank',
      'resume',
      '--config',
      configFile,
      '--reason',
      'new certificate',
      '--json',
    ]);
    expect(resume.code).toBe(0);
    await resumedOnBoth;
    expect(await offered(rpA)).toEqual(['mock-eid', 'mock-bank']);
    expect(await offered(rpB)).toEqual(['mock-eid', 'mock-bank']);
  });
});

test('one instance on the memory store picks a change up from the record files', async () => {
  const registry = writeRegistry(join(dir, 'single'), [
    record('mock-eid', 'production'),
    record('mock-bank', 'production'),
  ]);
  const audit = { dir: join(dir, 'single-audit'), signing_key: join(dir, 'single-keys/checkpoint.pem') };
  const settings = { registry: { dir: registry }, audit };
  const gw = await startGateway({ providers: REGISTRY_PROVIDERS, settings });
  const configFile = join(dir, 'single.yaml');
  writeFileSync(configFile, stringify({ issuer: gw.issuer, providers: REGISTRY_PROVIDERS, ...settings }));
  try {
    const change = once(gw.gateway.registry!, 'applied');
    const cli = await runCli([
      'providers',
      'transition',
      'mock-eid',
      'suspended',
      '-c',
      configFile,
      '--reason',
      'audit finding',
    ]);
    expect(cli.code).toBe(0);
    expect(await change).toEqual([['mock-eid']]);
    expect(await offered(await rpConfig(gw.issuer))).toEqual(['mock-bank']);
    // no gateway held that log: the command recorded the change itself
    const query = await runCli(['audit', 'query', '-c', configFile, '--event', 'registry_change', '--json']);
    expect(query.code).toBe(0);
    expect(JSON.stringify(JSON.parse(query.stdout))).toContain('"reason":"audit finding"');
  } finally {
    await gw.close();
  }
});

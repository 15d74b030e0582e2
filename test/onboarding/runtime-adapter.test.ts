// A provider let into `testing` (then `production`) while two instances share Redis: each opens its
// adapter at its next registry look, without a restart, offers it to the services the stage allows, and
// a citizen logs in with it on the other instance than the one that saw the change first.
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as oidc from 'openid-client';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { atRp, beginLogin, claimsOf, loginThroughMock, rpConfig, type TestGateway } from '../support/gateway.ts';
import { record, TEST_CLIENT, writeRegistry } from './fixtures.ts';
import { type SharedInstances, startSharedInstances } from './shared-instances.ts';

const prefix = `vpm-joining-runtime-${randomBytes(4).toString('hex')}:`;
let dir: string;
let configFile: string;
let a: TestGateway;
let b: TestGateway;
let instances: SharedInstances;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-runtime-'));
  // the bank passed its security probe in development; it is not offered, so no adapter is open for it
  const bank = record('mock-bank', 'development', { probe: { at: new Date().toISOString(), ok: true, report: {} } });
  const registry = writeRegistry(join(dir, 'registry'), [record('mock-eid', 'production'), bank]);
  instances = await startSharedInstances({ dir, registry, prefix, pollSeconds: 1, clients: [TEST_CLIENT] });
  ({ a, b, configFile } = instances);
});
afterAll(async () => {
  const keys = ['registry:version', 'registry:record:mock-eid', 'registry:record:mock-bank'];
  // with each revision's copy (src/onboarding/published.ts)
  const copies = ['registry:record:mock-eid:7', ...[5, 6, 7, 8, 9].map((r) => `registry:record:mock-bank:${r}`)];
  await instances?.close([...keys, ...copies, ...[6, 7, 8, 9].map((r) => `registry:audited:mock-bank:${r}`)]);
  rmSync(dir, { recursive: true, force: true });
});

async function offered(config: oidc.Configuration): Promise<string[]> {
  const started = await beginLogin(config);
  const page = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  expect(page.status).toBe(200);
  return ['mock-eid', 'mock-bank'].filter((id) => page.body.includes(`"${id}"`));
}

const move = (stage: string) =>
  runCli(['providers', 'transition', 'mock-bank', stage, '-c', configFile, '--reason', `to ${stage}`, '--json']);

test('testing, then production, take effect on both instances without a restart', async () => {
  const testerA = await rpConfig(a.issuer, TEST_CLIENT.client_id, TEST_CLIENT.client_secret);
  const testerB = await rpConfig(b.issuer, TEST_CLIENT.client_id, TEST_CLIENT.client_secret);
  const rpA = await rpConfig(a.issuer);
  expect(a.gateway.adapters.has('mock-bank')).toBe(false);
  expect(b.gateway.adapters.has('mock-bank')).toBe(false);
  expect(await offered(testerB)).toEqual(['mock-eid']);

  const bothApplied = Promise.all([once(a.gateway.registry!, 'applied'), once(b.gateway.registry!, 'applied')]);
  const testing = await move('testing');
  expect(testing).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(testing.stdout)).toMatchObject({ stage: 'testing', from: 'development' });
  await bothApplied;
  // each instance opened its own adapter, through the kind's factory as at start
  expect(a.gateway.adapters.get('mock-bank')?.id).toBe('mock-bank');
  expect(b.gateway.adapters.get('mock-bank')?.id).toBe('mock-bank');
  expect(await offered(testerA)).toEqual(['mock-eid', 'mock-bank']);
  expect(await offered(testerB)).toEqual(['mock-eid', 'mock-bank']);
  expect(await offered(rpA)).toEqual(['mock-eid']);

  // a whole login with it on the instance that did not write the change: its routes and callback work
  const login = await loginThroughMock(testerB, {}, 0, 'mock-bank');
  expect(login.callback?.searchParams.get('code')).toBeTruthy();
  const claims = await claimsOf(testerB, login, login.callback!);
  expect(claims.sub).toBeTruthy();

  // production needs a successful test login (`providers test-login`, tested on its own): its stored
  // result stands in here; the adapter opened for testing stays the one used
  const opened = a.gateway.adapters.get('mock-bank');
  const bothAgain = Promise.all([once(a.gateway.registry!, 'applied'), once(b.gateway.registry!, 'applied')]);
  writeFileSync(
    join(dir, 'registry', 'mock-bank.yaml'),
    stringify({
      ...record('mock-bank', 'testing', { probe: { at: new Date().toISOString(), ok: true, report: {} } }),
      revision: 8,
      test_login: { at: new Date().toISOString(), ok: true, report: {} },
    }),
  );
  const production = await move('production');
  expect(production.code).toBe(0);
  await bothAgain;
  expect(a.gateway.adapters.get('mock-bank')).toBe(opened);
  expect(await offered(rpA)).toEqual(['mock-eid', 'mock-bank']);
});

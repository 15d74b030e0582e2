// `providers test-login` end to end: the command plays a test service against a running gateway, the
// operator (here a browser) logs in at the provider, and the report is stored, audited and required
// for production; a cancelled login is a failed report that keeps production closed.
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { unreachable } from '../../src/cli/providers-test-login.ts';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { Browser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { mockProviderLogin, type TestGateway } from '../support/gateway.ts';
import { REGISTRY_PROVIDERS, TEST_CLIENT } from './fixtures.ts';
import { runTestLogin, startTestLoginGateway, type TestLoginGateway } from './test-login-harness.ts';
import { freePort } from '../support/free-port.ts';

let t: TestLoginGateway;
let dir: string;
let registry: string;
let config: string;
let gw: TestGateway;
beforeAll(async () => {
  t = await startTestLoginGateway('login');
  ({ dir, registry, config, gw } = t);
});
afterAll(() => t.close());

const testLogin = (operator: (url: string) => Promise<void>) => runTestLogin(config, operator);

/** The operator at the mock bank: picks a test person, or cancels. */
const operator = (user: number | 'cancel') => async (url: string) => {
  const browser = new Browser();
  const atBank = await browser.follow(await browser.get(url), (h) => !!h.location?.includes('/providers/mock-bank/'));
  const back = await mockProviderLogin(browser, atBank, user);
  const done = await browser.follow(back, (h) => h.url.endsWith('/test-login') || !!h.url.includes('/test-login?'));
  expect(done.body).toContain('Test login received');
};

const stored = () => t.stored();

test("a loopback redirect URI on the gateway's own origin is not the command's: it says which client it needs", async () => {
  // the demo service's /demo/callback is answered by the gateway itself
  const own = [{ ...TEST_CLIENT, redirect_uris: [`${gw.issuer}/demo/callback`] }];
  const file = join(dir, 'own-origin.yaml');
  writeFileSync(
    file,
    stringify({ issuer: gw.issuer, providers: REGISTRY_PROVIDERS, clients: own, registry: { dir: registry } }),
  );
  const r = await runCli(['providers', 'test-login', 'mock-bank', '-c', file]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('no client marked test: true has a loopback redirect URI');
  expect(r.stderr).not.toContain('/auth?');
});

test('a gateway not running at the configured issuer is named, with what to check', async () => {
  const issuer = `http://127.0.0.1:${await freePort()}`;
  const redirect = `http://127.0.0.1:${await freePort()}/test-login`;
  const clients = [{ ...TEST_CLIENT, redirect_uris: [redirect] }];
  const file = join(dir, 'elsewhere.yaml');
  writeFileSync(file, stringify({ issuer, providers: REGISTRY_PROVIDERS, clients, registry: { dir: registry } }));
  const r = await runCli(['providers', 'test-login', 'mock-bank', '-c', file]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`cannot reach the gateway at ${issuer} (ECONNREFUSED)`);
  expect(r.stderr).toContain('with PORT or ISSUER set for start, set them here too');
  expect(stored().test_login).toBeUndefined();
});

test('a gateway whose certificate this machine does not trust is named as such, with what to set', async () => {
  const ca = await createCa({ commonName: 'Untrusted dev CA' });
  const leaf = await issueCertificate(ca, { commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const server = createHttpsServer({ key: leaf.key, cert: leaf.cert }, (_req, res) => res.end('{}'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const clients = [{ ...TEST_CLIENT, redirect_uris: [`http://127.0.0.1:${await freePort()}/test-login`] }];
    const file = join(dir, 'untrusted.yaml');
    writeFileSync(file, stringify({ issuer, providers: REGISTRY_PROVIDERS, clients, registry: { dir: registry } }));
    const r = await runCli(['providers', 'test-login', 'mock-bank', '-c', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `the gateway at ${issuer} answered with a certificate this machine does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE): set NODE_EXTRA_CA_CERTS`,
    );
    expect(r.stderr).not.toContain('start it with this configuration first');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a cancelled login is a failed report, stored, and production stays closed', async () => {
  const r = await testLogin(operator('cancel'));
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, refused: 'user_cancel' });
  expect(stored().test_login.ok).toBe(false);
  const moved = await runCli(['providers', 'transition', 'mock-bank', 'production', '-c', config, '--reason', 'go']);
  expect(moved).toMatchObject({
    code: 1,
    stderr: expect.stringContaining('test_login: production needs a successful test login'),
  });
});

test('a successful login: every check reported, stored, audited without personal data, and production opens', async () => {
  const r = await testLogin(operator(0));
  expect(r.code).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.checks.map((c: { check: string; ok: boolean }) => [c.check, c.ok])).toEqual([
    ['names', true],
    ['personal_code', true],
    ['two_factor', true],
    ['level', true],
    ['auth_time', true],
    ['signature', true],
  ]);
  expect(report.claims).toEqual(expect.arrayContaining(['given_name', 'family_name', 'personal_code', 'amr', 'acr']));
  expect(stored().test_login).toMatchObject({ ok: true, at: report.at });
  const audit = await runCli(['audit', 'query', '-c', config, '--event', 'registry_change', '--json']);
  const logged = JSON.stringify(JSON.parse(audit.stdout));
  expect(logged).toContain(`"test_login":{"at":"${report.at}`);
  // the report is no stage move: the last move's person and reason are not put on it
  const change = (JSON.parse(audit.stdout) as { entries: { detail: Record<string, unknown> }[] }).entries.find(
    (e) => (e.detail.test_login as { at?: string } | undefined)?.at === report.at,
  )!;
  expect(change.detail).toMatchObject({ report_only: true, from: change.detail.stage });
  expect(change.detail).not.toHaveProperty('by');
  expect(change.detail).not.toHaveProperty('reason');
  expect(logged).not.toContain('010180'); // the mock's test person's code never reaches the report
  const moved = await runCli([
    'providers',
    'transition',
    'mock-bank',
    'production',
    '-c',
    config,
    '--reason',
    'tested',
  ]);
  expect(moved.code).toBe(0);
});

test.each([
  [
    'ECONNREFUSED',
    'cannot reach the gateway at https://gw.example.lv (ECONNREFUSED): start it with this configuration first',
  ],
  [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'a certificate this machine does not trust (UNABLE_TO_VERIFY_LEAF_SIGNATURE): set NODE_EXTRA_CA_CERTS',
  ],
  ['CERT_HAS_EXPIRED', 'answered with an expired certificate (CERT_HAS_EXPIRED): renew'],
  [
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'does not name the host of https://gw.example.lv (ERR_TLS_CERT_ALTNAME_INVALID): check issuer',
  ],
])('a discovery failure with %s is explained by what would fix it', (why, advice) => {
  expect(unreachable('https://gw.example.lv', why)).toContain(advice);
});

// A scaffolded adapter kind, written outside the repository, is formatted as the gateway's biome wants
// and passes the adapter conformance suite untouched: its own generated test file is loaded here and
// registers the suite, and the documented jest command runs it from the gateway's directory. Its answer
// names the person, so it never travels in a URL: the test peer posts it in a form, and the adapter
// refuses it brought by GET; it refuses an answer authenticated before the login began, and lists the
// provider's origin for CSP form-action (test/browser/scaffolded-adapter.test.ts logs in through it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brokerFor, TEST_BROWSER } from '../support/broker.ts';
import { parseAutoPost } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';

const outside = join(mkdtempSync(join(tmpdir(), 'vpm-scaffold-')), 'app-confirm');
const written = await runCli(['providers', 'scaffold', '--kind', 'custom', 'app-confirm', '--dir', outside, '--json']);
if (written.code !== 0) throw new Error(`scaffold failed: ${written.stderr}`);
afterAll(() => rmSync(dirname(outside), { recursive: true, force: true }));

// the folder's own modules, as its developer starts from them
const { factory } = await import(join(outside, 'index.ts'));
const { sign } = await import(join(outside, 'protocol.ts'));
const { startPeer, TEST_PERSON } = await import(join(outside, 'test-peer.ts'));
const SECRET = 'a-secret-shared-with-the-test-peer-0123456789';
const CALLBACK = 'https://gw.example.lv/broker/callback/app-confirm';
const adapter = await factory.create(
  factory.schema.parse({
    id: 'app-confirm',
    type: 'app-confirm',
    name: { lv: 'app-confirm', en: 'app-confirm' },
    kind: 'eid',
    loa: 'high',
    url: 'https://eid.example.lv/authorize',
    secret: SECRET,
  }),
  undefined,
);

/** Where in `text` the test person shows, as written or as a URL encodes it. */
function personalDataIn(text: string): string[] {
  let decoded = text;
  try {
    decoded = decodeURIComponent(text.replaceAll('+', ' '));
  } catch {}
  const data = [TEST_PERSON.personal_code, TEST_PERSON.given_name, TEST_PERSON.family_name];
  return data.filter((d) => `${text} ${decoded}`.toUpperCase().includes(d));
}

test('the folder holds schema and factory, adapter, protocol, test peer and test', () => {
  expect(JSON.parse(written.stdout).files.sort()).toEqual([
    'adapter.ts',
    'app-confirm.test.ts',
    'index.ts',
    'package.json',
    'protocol.ts',
    'test-peer.ts',
  ]);
});

test('the test peer answers with a form posted to the callback, no personal data in a header or URL', async () => {
  const peer = await startPeer(SECRET);
  try {
    const res = await fetch(`${peer.url}?state=s1&nonce=n1&return=${encodeURIComponent(CALLBACK)}`, {
      redirect: 'manual',
    });
    const page = await res.text();
    expect(res.headers.get('location')).toBeNull();
    expect([...res.headers.values()].flatMap(personalDataIn)).toEqual([]);
    // every URL the page holds: attributes (a form's target, a link, a refresh) and absolute URLs in the text
    const urls = [...page.matchAll(/(?:action|href|src|content)="([^"]*)"|(https?:\/\/[^\s"'<>]+)/gi)];
    expect(urls.flatMap((u) => personalDataIn(u[1] ?? u[2]!))).toEqual([]);
    const form = parseAutoPost(page, peer.url);
    expect(form).toMatchObject({ action: CALLBACK, method: 'POST', fields: { state: 's1', ...TEST_PERSON } });
  } finally {
    await peer.close();
  }
});

/** A login begun through the broker, and the provider's signed answer to it, authenticated at `authTime`. */
function answerer(broker: ReturnType<typeof brokerFor>['broker']) {
  return async (uid: string, authTime = Date.now()) => {
    const begun = await broker.begin({
      browser: TEST_BROWSER,
      uid,
      clientId: 'conformance',
      providerId: adapter.id,
      locale: 'en',
      correlationId: `corr-${uid}`,
    });
    const fields = {
      state: begun.state,
      nonce: new URL(begun.action.url).searchParams.get('nonce')!,
      ...TEST_PERSON,
      auth_time: String(Math.floor(authTime / 1000)),
    };
    return { ...fields, signature: sign(SECRET, fields) };
  };
}

test('the adapter refuses a signed answer brought by GET, its identity in the query; posted, it is taken', async () => {
  const { broker, store } = brokerFor(adapter, { callbackUrl: CALLBACK });
  const answer = answerer(broker);
  try {
    await expect(broker.complete(adapter.id, await answer('uid-get'), 'GET', TEST_BROWSER)).rejects.toMatchObject({
      code: 'invalid_response',
      login: { uid: 'uid-get' },
    });
    await expect(broker.complete(adapter.id, await answer('uid-post'), 'POST', TEST_BROWSER)).resolves.toMatchObject({
      login: { uid: 'uid-post' },
      identity: { subject: `PNOLV-${TEST_PERSON.personal_code}` },
    });
  } finally {
    await store.close();
  }
});

test('the adapter refuses a signed answer authenticated before the login began: fresh authentication', async () => {
  const { broker, store } = brokerFor(adapter, { callbackUrl: CALLBACK });
  const answer = answerer(broker);
  try {
    // beyond the clock skew the adapter allows (30 s): an older authentication, however well signed
    const stale = await answer('uid-stale', Date.now() - 120_000);
    await expect(broker.complete(adapter.id, stale, 'POST', TEST_BROWSER)).rejects.toMatchObject({
      code: 'invalid_response',
      detail: expect.stringContaining('before this login started'),
      login: { uid: 'uid-stale' },
    });
    // within it, as a provider's clock a little behind ours puts it
    const behind = await answer('uid-behind', Date.now() - 10_000);
    await expect(broker.complete(adapter.id, behind, 'POST', TEST_BROWSER)).resolves.toMatchObject({
      login: { uid: 'uid-behind' },
    });
  } finally {
    await store.close();
  }
});

test('the adapter lets the selection page lead to the provider: its origin is in CSP form-action', () => {
  expect(adapter.formActionOrigins()).toEqual(['https://eid.example.lv']);
});

test("the secret is the gateway's secret setting: a string, { env } or { file }, at least 32 characters", () => {
  const entry = { id: 'x', type: 'app-confirm', name: { lv: 'x', en: 'x' }, kind: 'eid', loa: 'high', url: CALLBACK };
  process.env.VPM_SCAFFOLD_TEST_SECRET = SECRET;
  try {
    expect(factory.schema.parse({ ...entry, secret: { env: 'VPM_SCAFFOLD_TEST_SECRET' } }).secret).toBe(SECRET);
  } finally {
    delete process.env.VPM_SCAFFOLD_TEST_SECRET;
  }
  expect(factory.schema.safeParse({ ...entry, secret: 'short' }).error?.issues[0]?.message).toBe(
    'secret must be at least 32 characters',
  );
});

test("the files are as the gateway's formatter writes them", () => {
  const biome = join(process.cwd(), 'node_modules/.bin/biome');
  const config = join(process.cwd(), 'biome.json');
  const run = spawnSync(biome, ['format', '--config-path', config, '--vcs-enabled=false', outside], {
    cwd: dirname(outside),
    encoding: 'utf8',
  });
  expect(`${run.stdout}${run.stderr}`).toContain('Checked 6 files');
  expect(run.status).toBe(0);
});

test("the documented command runs the folder's conformance test with the gateway's jest", () => {
  const jest = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js'];
  const run = spawnSync(process.execPath, [...jest, '--roots', outside, '--testMatch', '**/*.test.ts'], {
    cwd: process.cwd(),
    encoding: 'utf8',
  });
  expect(run.stderr).toContain('app-confirm.test.ts');
  expect(run.stderr).toMatch(/Tests: +10 passed, 10 total/);
  expect(run.status).toBe(0);
});

test('scaffold refuses an unknown kind, a bad name and a folder in use', async () => {
  expect((await runCli(['providers', 'scaffold', '--kind', 'ldap', 'x'])).stderr).toContain(
    '--kind must be custom, oidc, saml or banklink',
  );
  expect((await runCli(['providers', 'scaffold', '--kind', 'custom', 'Bad_Name'])).code).toBe(2);
  expect(await runCli(['providers', 'scaffold', '--kind', 'custom', 'again', '--dir', outside])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('exists and is not empty'),
  });
});

await import(join(outside, 'app-confirm.test.ts'));

// examples/python-authlib (Flask + Debian's Authlib 1.2.0) against the demo gateway over HTTPS: the
// example runs as its own process under Debian's python3, trusting the development CA (REQUESTS_CA_BUNDLE); a
// person logs in with the mock eID and with the test bank, logs out, and cancels once.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  Browser,
  loginWithMockEid,
  root,
  settle,
  startExampleGateway,
  startProcess,
  trustCa,
  useNavigationFetch,
  printLogs,
  type Child,
  type ExampleGateway,
} from './support.ts';
import { logOutToStart, serviceTests } from './service-tests.ts';

// Debian's interpreter, with python3-authlib, python3-flask and python3-requests (not a virtualenv's)
const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import authlib, flask, requests'], { encoding: 'utf8' });
const available = probe.status === 0;
const describeIfPython = available ? describe : describe.skip;
if (!available)
  console.warn(
    `skipping examples/python-authlib: ${PYTHON} cannot import authlib, flask and requests (apt-get install python3-authlib python3-flask python3-requests): ${probe.error?.message ?? probe.stderr}`,
  );

describeIfPython('examples/python-authlib (Flask + Authlib)', () => {
  let gateway: ExampleGateway;
  let rp: Child;
  let rpBase: string;
  let untrust: () => void;
  let restoreFetch: () => void;

  beforeAll(async () => {
    gateway = await startExampleGateway();
    untrust = trustCa(gateway.caPem);
    restoreFetch = useNavigationFetch();
    rpBase = `http://127.0.0.1:${gateway.ports.python}`;
    rp = startProcess(PYTHON, [join(root, 'examples/python-authlib/app.py')], {
      cwd: root,
      env: {
        PORT: String(gateway.ports.python),
        ISSUER: gateway.issuer,
        CLIENT_ID: 'example-python-authlib',
        CLIENT_SECRET: 'example-python-authlib-secret-not-for-production',
        BASE_URL: rpBase,
        REQUESTS_CA_BUNDLE: gateway.caFile,
        SECRET_KEY: 'example-flask-secret-key-for-the-test-only',
        PYTHONUNBUFFERED: '1',
      },
      ready: `Running on ${rpBase}`,
      what: 'examples/python-authlib',
    });
    await rp.ready;
  }, 60_000);

  afterAll(async () => {
    printLogs(gateway?.child, rp);
    await rp?.stop();
    untrust?.();
    restoreFetch?.();
    await gateway?.close();
  });

  test('log in with the mock eID: the service shows the verified ID token and userinfo claims, then logs out', async () => {
    const b = new Browser();
    const selection = await settle(b, await b.get(`${rpBase}/login`));
    const auth = new URL(b.history.find((h) => h.url.startsWith(`${gateway.issuer}/auth?`))!.url).searchParams;
    expect(auth.get('client_id')).toBe('example-python-authlib');
    expect(auth.get('code_challenge_method')).toBe('S256');
    expect(auth.get('code_challenge')).toBeTruthy();
    expect(auth.get('scope')).toBe('openid profile personal_code');
    expect(auth.get('state')).toBeTruthy();
    expect(auth.get('nonce')).toBeTruthy();
    const page = await loginWithMockEid(b, selection);
    expect(page.url).toBe(`${rpBase}/`);
    expect(page.body).toContain('Welcome, Jānis Bērziņš');
    const idToken = /<dl id="id-token">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
    expect(idToken).toContain(`<dt>iss</dt><dd>${gateway.issuer}</dd>`);
    expect(idToken).toContain('<dt>aud</dt><dd>example-python-authlib</dd>');
    expect(idToken).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
    expect(idToken).toContain('<dt>idp</dt><dd>demo-eid</dd>');
    expect(idToken).toContain('<dt>acr</dt><dd>high</dd>');
    const userinfo = /<dl id="userinfo">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
    expect(userinfo).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
    expect(userinfo).toContain('<dt>given_name</dt><dd>Jānis</dd>');
    // acr, amr and auth_time come from userinfo too, as in the ID token
    expect(userinfo).toContain('<dt>acr</dt><dd>high</dd>');
    expect(userinfo).toMatch(/<dt>amr<\/dt><dd>[^<]+<\/dd>/);
    expect(userinfo).toMatch(/<dt>auth_time<\/dt><dd>\d+<\/dd>/);

    await logOutToStart(b, rpBase);
  });

  serviceTests(() => ({ rpBase, issuer: gateway.issuer }));
});

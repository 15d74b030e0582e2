// examples/node-express (openid-client 6 + express 5) against the demo gateway over HTTPS: the example
// runs as its own process, as an agency would run it, trusting the development CA through
// NODE_EXTRA_CA_CERTS; a person logs in with the mock eID and with the test bank, logs out, and cancels.
import { join } from 'node:path';
import type { ExampleOptions } from '../../examples/node-express/app.ts';
import {
  Browser,
  NODE,
  loginWithMockEid,
  loginWithOidcTestEid,
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

let gateway: ExampleGateway;
let rp: Child;
let rpBase: string;
let untrust: () => void;
let restoreFetch: () => void;

beforeAll(async () => {
  gateway = await startExampleGateway();
  untrust = trustCa(gateway.caPem);
  restoreFetch = useNavigationFetch();
  rpBase = `http://127.0.0.1:${gateway.ports.node}`;
  const options: ExampleOptions = {
    issuer: gateway.issuer,
    clientId: 'example-node-express',
    clientSecret: 'example-node-express-secret-not-for-production',
    baseUrl: rpBase,
  };
  rp = startProcess(NODE, [join(root, 'examples/node-express/server.ts')], {
    cwd: root,
    env: {
      PORT: String(gateway.ports.node),
      ISSUER: options.issuer,
      CLIENT_ID: options.clientId,
      CLIENT_SECRET: options.clientSecret,
      BASE_URL: options.baseUrl,
      NODE_EXTRA_CA_CERTS: gateway.caFile,
    },
    ready: 'listening on',
    what: 'examples/node-express',
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
  // the authorization request the example sent
  const auth = new URL(b.history.find((h) => h.url.startsWith(`${gateway.issuer}/auth?`))!.url).searchParams;
  expect(auth.get('client_id')).toBe('example-node-express');
  expect(auth.get('code_challenge_method')).toBe('S256');
  expect(auth.get('scope')).toBe('openid profile personal_code');
  expect(auth.get('state')).toBeTruthy();
  expect(auth.get('nonce')).toBeTruthy();
  const page = await loginWithMockEid(b, selection);
  expect(page.url).toBe(`${rpBase}/`);
  expect(page.body).toContain('Welcome, Jānis Bērziņš');
  const idToken = /<dl id="id-token">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
  expect(idToken).toContain(`<dt>iss</dt><dd>${gateway.issuer}</dd>`);
  expect(idToken).toContain('<dt>aud</dt><dd>example-node-express</dd>');
  expect(idToken).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
  expect(idToken).toContain('<dt>idp</dt><dd>demo-eid</dd>');
  expect(idToken).toContain('<dt>acr</dt><dd>high</dd>');
  const userinfo = /<dl id="userinfo">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
  expect(userinfo).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
  expect(userinfo).toContain('<dt>given_name</dt><dd>Jānis</dd>');

  // RP-initiated logout with the ID token as hint, back to the service's start page
  await logOutToStart(b, rpBase);
});

serviceTests(
  () => ({ rpBase, issuer: gateway.issuer }),
  // the pending login is spent: replaying the callback is refused, not retried
  async (b, page) => expect((await b.get(page.url)).status).toBe(400),
);

test('acr, amr and auth_time come from userinfo as well as from the ID token, with the same values', async () => {
  const b = new Browser();
  const selection = await settle(b, await b.get(`${rpBase}/login`));
  const page = await loginWithMockEid(b, selection);
  expect(page.url).toBe(`${rpBase}/`);
  const dl = (id: string) =>
    Object.fromEntries(
      [
        ...new RegExp(`<dl id="${id}">([\\s\\S]*?)</dl>`)
          .exec(page.body)![1]!
          .matchAll(/<dt>([^<]*)<\/dt><dd>([^<]*)<\/dd>/g),
      ].map((m) => [m[1]!, m[2]!]),
    );
  const idToken = dl('id-token');
  const userinfo = dl('userinfo');
  expect(userinfo.acr).toBe('high');
  expect(userinfo.amr).toBeTruthy();
  expect(userinfo.auth_time).toMatch(/^\d+$/);
  for (const claim of ['acr', 'amr', 'auth_time', 'idp', 'sub']) expect(userinfo[claim]).toBe(idToken[claim]);
});

test('log in through the in-process OIDC test eID over https (idp_hint): its back channel trusts the dev CA through a tls block with only ca', async () => {
  const b = new Browser();
  const opPage = await settle(b, await b.get(`${rpBase}/login?idp=demo-oidc-eid`));
  // the gateway found the test eID by discovery over https on its own server and sent the person there
  expect(b.history.some((h) => h.url.startsWith(`${gateway.issuer}/demo/oidc-eid/auth?`))).toBe(true);
  const page = await loginWithOidcTestEid(b, opPage, 'anna');
  expect(page.url).toBe(`${rpBase}/`);
  expect(page.body).toContain('Welcome, Anna Marija Kalniņa');
  const idToken = /<dl id="id-token">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
  expect(idToken).toContain(`<dt>iss</dt><dd>${gateway.issuer}</dd>`);
  expect(idToken).toContain('<dt>sub</dt><dd>PNOLV-325035-11782</dd>');
  expect(idToken).toContain('<dt>idp</dt><dd>demo-oidc-eid</dd>');
  expect(idToken).toContain('<dt>acr</dt><dd>high</dd>');
  const userinfo = /<dl id="userinfo">([\s\S]*?)<\/dl>/.exec(page.body)![1]!;
  expect(userinfo).toContain('<dt>personal_code</dt><dd>325035-11782</dd>');
});

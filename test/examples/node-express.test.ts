// examples/node-express (openid-client 6 + express 5) against the demo gateway over HTTPS: the example
// runs as its own process, as an agency would run it, trusting the development CA through
// NODE_EXTRA_CA_CERTS; a person logs in with the mock eID and with the test bank, logs out, and cancels.
import { join } from 'node:path';
import type { ExampleOptions } from '../../examples/node-express/app.ts';
import { Browser, NODE, loginWithOidcTestEid, root, settle, startProcess } from './support.ts';
import { exampleServiceRun } from './service-run.ts';
import { claimList, serviceTests } from './service-tests.ts';

const CLIENT_ID = 'example-node-express';

const run = exampleServiceRun((gateway) => {
  const options: ExampleOptions = {
    issuer: gateway.issuer,
    clientId: CLIENT_ID,
    clientSecret: 'example-node-express-secret-not-for-production',
    baseUrl: `http://127.0.0.1:${gateway.ports.node}`,
  };
  const child = startProcess(NODE, [join(root, 'examples/node-express/server.ts')], {
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
  return { rpBase: options.baseUrl, child };
});

serviceTests(
  () => ({ rpBase: run.rpBase, issuer: run.gateway.issuer, clientId: CLIENT_ID }),
  // the pending login is spent: replaying the callback is refused, not retried
  async (b, page) => expect((await b.get(page.url)).status).toBe(400),
);

test('log in through the in-process OIDC test eID over https (idp_hint): its back channel trusts the dev CA through a tls block with only ca', async () => {
  const { rpBase, gateway } = run;
  const b = new Browser();
  const opPage = await settle(b, await b.get(`${rpBase}/login?idp=demo-oidc-eid`));
  // the gateway found the test eID by discovery over https on its own server and sent the person there
  expect(b.history.some((h) => h.url.startsWith(`${gateway.issuer}/demo/oidc-eid/auth?`))).toBe(true);
  const page = await loginWithOidcTestEid(b, opPage, 'anna');
  expect(page.url).toBe(`${rpBase}/`);
  expect(page.body).toContain('Welcome, Anna Marija Kalniņa');
  const idToken = claimList(page, 'id-token');
  expect(idToken).toContain(`<dt>iss</dt><dd>${gateway.issuer}</dd>`);
  expect(idToken).toContain('<dt>sub</dt><dd>PNOLV-325035-11782</dd>');
  expect(idToken).toContain('<dt>idp</dt><dd>demo-oidc-eid</dd>');
  expect(idToken).toContain('<dt>acr</dt><dd>high</dd>');
  expect(claimList(page, 'userinfo')).toContain('<dt>personal_code</dt><dd>325035-11782</dd>');
});

// The test side of the folder `providers scaffold --kind custom NAME` writes (./custom.ts): the test peer,
// playing the provider on a real port, and the test that runs the adapter conformance suite against it, then
// the protocol's own attacks. `q` writes a string literal as the gateway's formatter does, `at` one naming a
// file of the gateway.
export function customTestSideFiles(
  name: string,
  q: (text: string) => string,
  at: (path: string) => string,
): { peer: string; test: string } {
  const peer = `// A test peer for ${name}: the provider's side of the protocol, on a real HTTP port. It signs in the
// test person at once (or reports a cancel when asked with choice=cancel) and answers with a page whose
// form the browser posts to the gateway (see ./protocol.ts: the answer is never put in a URL).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { html } from ${at('src/web/html.ts')};
import { sign } from './protocol.ts';

export const TEST_PERSON = {
  given_name: 'JĀNIS',
  family_name: 'BĒRZIŅŠ',
  personal_code: '010180-15097',
  country: 'LV',
};

/** The answer's page: a form posted at once (by hand without scripts) to the gateway's callback. */
function autoPost(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields).map(([k, v]) => html\`<input type="hidden" name="\${k}" value="\${v}">\`);
  return html\`<!doctype html><meta charset="utf-8"><title>Returning to the service</title>
<form id="autopost" method="post" action="\${action}">\${inputs}<button>Continue</button></form>
<script>document.getElementById('autopost').submit()</script>\`.value;
}

export async function startPeer(secret: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://peer');
    const state = url.searchParams.get('state') ?? '';
    let fields: Record<string, string> = { state, error: 'cancel' };
    if (url.searchParams.get('choice') !== 'cancel') {
      const answer = {
        state,
        nonce: url.searchParams.get('nonce') ?? '',
        ...TEST_PERSON,
        auth_time: String(Math.floor(Date.now() / 1000)),
      };
      fields = { ...answer, signature: sign(secret, answer) };
    }
    // the page holds the person's data: not to be kept in the browser's cache either
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'close',
    });
    res.end(autoPost(url.searchParams.get('return') ?? 'http://invalid/', fields));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: \`http://127.0.0.1:\${(server.address() as AddressInfo).port}/authorize\`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
`;
  const test = `// ${name} against the gateway's adapter conformance suite, with its test peer playing the provider,
// then the protocol's own attacks.
import type { CallbackContext, StartAction } from ${at('src/broker/adapter.ts')};
import { adapterConformance, type Callback } from ${at('test/support/adapter-conformance.ts')};
import { parseAutoPost } from ${at('test/support/browser.ts')};
import { factory } from './index.ts';
import { sign } from './protocol.ts';
import { startPeer, TEST_PERSON } from './test-peer.ts';

const SECRET = 'a-secret-shared-with-the-test-peer-0123456789';
const CALLBACK = 'https://gateway.example.lv/broker/callback/${name}';

const peer = await startPeer(SECRET);
afterAll(() => peer.close());
const config = factory.schema.parse({
  id: ${q(name)},
  type: ${q(name)},
  name: { lv: ${q(name)}, en: ${q(name)} },
  kind: 'eid',
  loa: 'high',
  url: peer.url,
  secret: SECRET,
});
const adapter = await factory.create(config, undefined as never);

/** The browser's part: follow the redirect to the peer and submit the form of its answer. The answer
 * names the person: it must come as a POSTed form, never in a URL (a redirect's Location, a GET form). */
async function answer(action: StartAction, outcome: 'success' | 'cancel'): Promise<Callback> {
  const url = new URL(action.url);
  if (outcome === 'cancel') url.searchParams.set('choice', 'cancel');
  const res = await fetch(url, { redirect: 'manual' });
  expect(res.headers.get('location')).toBeNull();
  const form = parseAutoPost(await res.text(), url.href);
  expect(form).toMatchObject({ action: CALLBACK, method: 'POST' });
  return { method: 'POST', params: form!.fields };
}

adapterConformance(${q(name)}, async () => ({
  adapter,
  callbackUrl: CALLBACK,
  drive: answer,
  withState: (callback, state) => ({ ...callback, params: { ...callback.params, state } }),
  expectedSubject: 'PNOLV-010180-15097',
  teardown: async () => {},
}));

/** A login started now, straight at the adapter, and the peer's answer to it as the browser posts it. */
async function answered(state: string): Promise<CallbackContext> {
  const login = { callbackUrl: CALLBACK, correlationId: \`c-\${state}\` };
  const loginStartedAt = Date.now();
  const started = await adapter.start({ ...login, state, locale: 'en', browser: 'b1' });
  const { params } = await answer(started.action, 'success');
  // the service sent no max_age: the window is the login's own
  const window = { loginStartedAt, authenticatedNotBefore: undefined };
  return { ...login, ...window, method: 'POST', params, connData: started.connData };
}

test('the answer brought in a URL (a GET callback) is refused, signed as it is', async () => {
  const callback = await answered('s1');
  await expect(adapter.callback({ ...callback, method: 'GET' })).rejects.toMatchObject({ code: 'invalid_response' });
  await expect(adapter.callback(callback)).resolves.toMatchObject({
    identity: { personalCode: TEST_PERSON.personal_code },
  });
});

test('an answer authenticated before this login started is refused, signed as it is', async () => {
  const callback = await answered('s2');
  // the provider's answer to an older login: a replay, or its session of whoever used the browser before
  const params = { ...callback.params, auth_time: String(Math.floor(callback.loginStartedAt / 1000) - 120) };
  await expect(
    adapter.callback({ ...callback, params: { ...params, signature: sign(SECRET, params) } }),
  ).rejects.toMatchObject({ code: 'invalid_response', detail: expect.stringContaining('before this login started') });
});
`;
  return { peer, test };
}

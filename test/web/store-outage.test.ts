// A store outage inside node-oidc-provider's own routes is the retry page (src/web/store-outage.ts), wherever
// it begins. The engine's resume at /auth/<uid> writes the session twice when the store is away: once in its
// session middleware (inside the route's error handler) and again around the whole route (outside it), and
// that second failure used to reach Koa as a bare 500. The store is the memory store, away from a chosen
// operation on, as a Redis failover is.
import type * as oidc from 'openid-client';
import { Browser, type Hop } from '../support/browser.ts';
import { CutOffStore } from '../support/cut-off-store.ts';
import {
  atRp,
  beginLogin,
  chooseProvider,
  mockProviderLogin,
  rpConfig,
  startGateway,
  type TestGateway,
} from '../support/gateway.ts';

const store = new CutOffStore();
let gw: TestGateway;
let rp: oidc.Configuration;

beforeAll(async () => {
  gw = await startGateway({ store });
  rp = await rpConfig(gw.issuer);
});
afterAll(async () => {
  await gw.close();
});
afterEach(() => store.restore());

/** A login through the mock eID up to the engine's resume: the browser and the /auth/<uid> URL it goes to next. */
async function upToResume(): Promise<{ browser: Browser; resume: string }> {
  const browser = new Browser();
  const started = await beginLogin(rp, {}, browser);
  const page = await browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  const authorize = await chooseProvider(browser, page.url, 'mock-eid');
  let hop = await mockProviderLogin(browser, authorize, 0);
  while (hop.location && !new URL(hop.location).pathname.startsWith('/auth/')) hop = await browser.get(hop.location);
  if (!hop.location) throw new Error(`the login did not reach the resume: ${hop.status} ${hop.url}`);
  return { browser, resume: hop.location };
}

function expectRetryPage(hop: Hop): void {
  expect({
    status: hop.status,
    retryAfter: hop.headers.get('retry-after'),
    location: hop.headers.get('location'),
  }).toEqual({ status: 503, retryAfter: '5', location: null });
  expect(hop.headers.get('content-type')).toMatch(/^text\/html/);
  expect(hop.body).toContain('The login service is briefly unavailable');
  expect(hop.body).toMatch(new RegExp(`<a class="button primary" href="${new URL(hop.url).pathname}">Try again</a>`));
}

test('the store goes away at the resume and stays away: the retry page, also when the engine saves the session again', async () => {
  const { browser, resume } = await upToResume();
  // from the first operation after the interaction's destroy on (the grant was read ahead with it): the
  // session middleware's save fails, then the route's own save again
  let destroyed = false;
  store.lasting = true;
  store.failing = (op, key) => {
    if (destroyed) return true;
    destroyed = op === 'take' && key.startsWith('oidc:Interaction:');
    return false;
  };
  const answer = await browser.get(resume);
  expect(store.cuts.filter((cut) => cut.startsWith('set oidc:Session:'))).toHaveLength(2);
  expectRetryPage(answer);
});

test('wherever in the resume the store goes away, the answer is the retry page', async () => {
  // the store operations of one resume, in order
  const { browser, resume } = await upToResume();
  // the interaction's markers are deleted after the response (src/login/interaction-markers.ts): not the resume's
  const answered = (key: string) => !/^(seen|starts|login-of):/.test(key);
  const from = store.log.length;
  expect(atRp(await browser.get(resume))).toBe(true);
  const operations = store.log.slice(from).filter((entry) => answered(entry.split(' ')[1]!)).length;
  expect(operations).toBeGreaterThan(5);
  for (let n = 0; n < operations; n += 1) {
    const login = await upToResume();
    let seen = 0;
    store.lasting = true;
    store.failing = (_op, key) => answered(key) && seen++ === n;
    const answer = await login.browser.get(login.resume);
    store.restore();
    expect({ n, status: answer.status }).toEqual({ n, status: 503 });
    expectRetryPage(answer);
  }
});

test('a logout posted while the store is away: the retry posts the form again, its fields stay out of any URL', async () => {
  // the store goes away inside the engine (its session), after the rate limit let the request through
  store.lasting = true;
  store.failing = (_op, key) => key.startsWith('oidc:');
  const answer = await new Browser().post(`${gw.issuer}/session/end`, {
    client_id: 'rp',
    post_logout_redirect_uri: 'https://rp.example.test/bye',
    state: 'logout-state-1',
  });
  store.restore();
  expect(store.cuts.some((cut) => cut.includes(' oidc:'))).toBe(true);
  expect(answer.status).toBe(503);
  expect(answer.body).toContain('The login service is briefly unavailable');
  // posted again as it came: an id_token_hint (with the personal code) in its place never reaches a URL
  expect(answer.body).toMatch(/<form method="post" action="\/session\/end">/);
  expect(answer.body).toContain('<input type="hidden" name="state" value="logout-state-1">');
  expect(answer.body).not.toMatch(/href="[^"]*logout-state-1/);
});

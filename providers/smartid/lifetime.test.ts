// How long a Smart-ID login lives: session_ttl_seconds is the wait for the app and runs from the RP API
// session's start, whatever time the person took on the form; once a login has expired its page still
// leads back to the service, in the login's language, and the service gets access_denied. The adapter's
// store runs on a clock the test moves on (the store is where logins expire); the RP API and the broker
// keep real time.
import { MemoryStore } from '../../src/store/memory.ts';
import { BrokerError } from '../../src/login/broker-error.ts';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import { WAY_BACK_SECONDS } from './sessions.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { beginLogin, codeOf } from './test-logins.ts';
import { follow, visit, walkWeb2App } from './test-user.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320099-10001',
  givenName: 'Ieva',
  surname: 'Liepa',
  behaviour: 'phone',
};
const TTL = 60;

let shift = 0;
/** Moves the adapter's store `seconds` on. */
const pass = (seconds: number) => {
  shift += seconds * 1000;
};
let h: Harness;
beforeAll(async () => {
  const store = new MemoryStore(() => Date.now() + shift);
  h = await startHarness({ ca: await TestCa.create(), accounts: [holder], store, entry: { session_ttl_seconds: TTL } });
});
afterAll(() => h.close());
beforeEach(() => {
  shift = 0;
});

const pages = () => `${h.origin}${h.adapter.pagesPath}`;

test('time spent on the form does not count against the wait for the app', async () => {
  const login = await beginLogin(h);
  expect((await visit(login.action.url)).status).toBe(200);
  pass(TTL - 5); // reading the page, finding the phone
  const waiting = await visit(`${pages()}/login`, { h: login.handle, ...codeOf(holder) });
  pass(TTL - 5); // the notification arrives, the person compares the code
  await h.phone(holder.semanticsIdentifier, 'confirm');
  const { outcome } = await login.end(await follow(h, waiting));
  expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
});

test('a wait that runs out ends at the service: the page in the login language leads to the callback, access_denied', async () => {
  const login = await beginLogin(h, { locale: 'en' });
  await visit(login.action.url);
  const waiting = await visit(`${pages()}/login`, { h: login.handle, ...codeOf(holder) });
  pass(TTL + 1);
  // the waiting page's script is sent on to the page, not told the login is unknown
  const status = await visit(`${pages()}/status?h=${login.handle}`);
  expect([status.status, JSON.parse(status.body)]).toEqual([
    200,
    { next: new URL(waiting.location!).pathname + new URL(waiting.location!).search },
  ]);
  const arrival = await follow(h, waiting);
  expect('callback' in arrival && arrival.endPage).toMatch(/lang="en"[\s\S]*The login was not confirmed in time/);
  const { outcome } = await login.end(arrival);
  expect(outcome).toBeInstanceOf(BrokerError);
  const err = outcome as BrokerError;
  expect([OAUTH_ERRORS[err.code]!.error, err.userInformed]).toEqual(['access_denied', true]);
  expect(err.detail).toContain(`login not completed within session_ttl_seconds (${TTL} s)`);
  // the way back is single use, like the login
  expect((await visit(`${pages()}/wait?h=${login.handle}`)).status).toBe(400);
});

test('a login left on its form past its lifetime ends the same way; its way back lasts as long as a gateway login can', async () => {
  const login = await beginLogin(h, { locale: 'lv' });
  pass(TTL + 1);
  const started = h.rp.api.sessions.size;
  const form = await visit(`${pages()}/login`, { h: login.handle, ...codeOf(holder) });
  expect(h.rp.api.sessions.size).toBe(started); // no session (no notification) for an expired login
  const arrival = await follow(h, form);
  expect('callback' in arrival && arrival.endPage).toContain('Pieslēgšanās netika apstiprināta laikā');
  const late = await beginLogin(h);
  pass(WAY_BACK_SECONDS + 1);
  expect((await visit(`${pages()}/wait?h=${late.handle}`)).status).toBe(400);
});

test("a Web2App login that expires while the person is in the app: the app's return leads back to the service", async () => {
  const login = await beginLogin(h);
  const arrival = await walkWeb2App(h, login.action, 'confirm', () => pass(TTL + 1));
  expect('callback' in arrival && arrival.endPage).toContain('The login was not confirmed in time');
  expect((await login.end(arrival)).outcome).toMatchObject({ code: 'access_denied', userInformed: true });
});

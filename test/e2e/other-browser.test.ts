// A login is completed only by the browser that began it (src/web/browser-binding.ts). The attack: someone
// begins a login at an agency service in their own browser, sends the provider's page to a victim ("log in
// to see your document"), the victim authenticates there, and the provider's answer comes back through the
// victim's browser. Without the binding, the attacker's browser, holding the interaction and resume
// cookies, would then collect a code for the victim's identity. Here the victim's browser is told why the
// login does not go on, the attacker's gets access_denied and no code, and the operator a warning and an
// audit record under the login's reference.
import { expect, test } from '@jest/globals';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { Browser, type Hop } from '../support/browser.ts';
import {
  atRp,
  beginLogin,
  chooseProvider,
  claimsOf,
  mockProviderLogin,
  useGateway,
  type StartedLogin,
} from '../support/gateway.ts';

const gw = useGateway();

/** A login begun in `browser` with the mock eID, up to the provider's page: what an attacker would send on. */
async function toProvider(browser = new Browser()): Promise<{ started: StartedLogin; authorize: Hop; uid: string }> {
  const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid', ui_locales: 'en' }, browser);
  const authorize = await browser.follow(started.hop, (h) => !!h.location?.includes('/providers/mock-eid/authorize'));
  return { started, authorize, uid: new URL(started.hop.location!).pathname.split('/')[2]! };
}

const bindingCookie = (hop: Hop) => hop.headers.getSetCookie().find((c) => c.startsWith('vpm-browser='));

const refusals = (uid: string) =>
  (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'provider_response_error' && e.correlationId === uid);

/** What the attacker's browser tries once the victim authenticated: the login's way back, or the engine's resume. */
async function attackerGoesOn(attacker: StartedLogin, uid: string, how: 'way back' | 'resume'): Promise<void> {
  const browser = attacker.browser;
  if (how === 'way back') {
    // the page's link on to the hand-back: the service hears access_denied for its state, and no code
    const back = await browser.follow(await browser.get(`${gw.issuer}/interaction/${uid}/complete`), atRp);
    const q = new URL(back.location!).searchParams;
    expect([q.get('error'), q.get('state'), q.get('code')]).toEqual(['access_denied', attacker.state, null]);
  } else {
    // straight to the engine's resume: the interaction has no result, so the engine asks for a login again
    const resumed = await browser.follow(await browser.get(`${gw.issuer}/auth/${uid}`), (h) => atRp(h));
    expect(resumed.location ?? resumed.url).not.toContain('code=');
    expect(resumed.url).toContain('/providers/mock-eid/authorize');
  }
}

test.each([
  ['a victim whose browser never used the gateway', 'way back', /without the login binding cookie/],
  ['a victim whose browser began a login of its own before', 'resume', /another browser/],
] as const)(
  'the provider answer of a login begun elsewhere, brought by %s, gives nobody a code (attacker: %s)',
  async (victimKind, how, reason) => {
    const attacker = await toProvider();
    const victim = new Browser();
    if (victimKind.includes('of its own')) await toProvider(victim);
    // the victim authenticates at the provider page the attacker sent: the answer lands in the victim's browser
    const answer = await mockProviderLogin(victim, attacker.authorize, 0);
    const page = await victim.follow(answer, atRp);
    expect(page.status).toBe(400);
    expect(page.url).toContain('/broker/callback/mock-eid');
    expect(page.body).toContain('This login was begun in another browser');
    // neither the way back (it is the other browser's) nor another provider is offered here
    expect(page.body).not.toMatch(/\/complete|\/abort|choose=1/);
    expect(page.body).toContain(attacker.uid.slice(0, 8));
    await attackerGoesOn(attacker.started, attacker.uid, how);
    // the provider's answer is spent: carried back into the attacker's browser it finds no login
    const carried = await attacker.started.browser.get(answer.location!);
    expect(carried.status).toBe(400);
    expect(carried.location).toBeUndefined();
    expect(refusals(attacker.uid).map((e) => e.detail)).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(reason) }),
      expect.objectContaining({ reason: 'unknown, expired or already used state' }),
    ]);
    expect(gw.logLines.join('\n')).toMatch(/provider answer refused/);
    expect(gw.logLines.join('\n')).not.toMatch(/\d{6}-\d{5}/);
  },
);

test('the binding cookie: HttpOnly, Lax over plain http, set at the start, one value for every login of a browser', async () => {
  const browser = new Browser();
  const first = await toProvider(browser);
  const set = browser.history.map(bindingCookie).filter(Boolean) as string[];
  expect(set.length).toBeGreaterThan(0);
  expect(set[0]).toMatch(/^vpm-browser=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
  // a second login in another tab of the same browser keeps the value, so both logins complete
  const second = await toProvider(browser);
  const values = new Set(
    browser.history
      .map(bindingCookie)
      .filter(Boolean)
      .map((c) => c!.split(';')[0]),
  );
  expect(values.size).toBe(1);
  for (const login of [second, first]) {
    const final = await browser.follow(await mockProviderLogin(browser, login.authorize, 0), atRp);
    expect((await claimsOf(gw.rp, login.started, final)).personal_code).toBe('010180-15097');
  }
});

test("interaction cookies planted in the victim's browser: the victim completes the login there, the attacker's resume gets no code", async () => {
  // the attacker begins a login and plants its interaction cookies in the victim's browser (from another host
  // of the same site: the engine's path-scoped cookies cannot be __Host-); the victim opens the login's page
  const attacker = await beginLogin(gw.rp, { ui_locales: 'en' }, new Browser());
  const uid = new URL(attacker.hop.location!).pathname.split('/')[2]!;
  const victim = new Browser();
  attacker.browser.plantIn(victim, new URL(gw.issuer), '/interaction/');
  const page = await victim.get(`${gw.issuer}/interaction/${uid}`);
  expect(page.status).toBe(200);
  // the victim chooses and authenticates: the answer comes back through the browser that chose, so the
  // callback takes it and hands the login back; the victim's browser has no resume cookie to go on with
  const authorize = await victim.follow(await chooseProvider(victim, page.url, 'mock-eid'), (h) =>
    h.location!.includes('/providers/mock-eid/authorize'),
  );
  const handedBack = await victim.follow(await mockProviderLogin(victim, authorize, 0), (h) =>
    new URL(h.location ?? h.url, gw.issuer).pathname.startsWith(`/auth/${uid}`),
  );
  expect(handedBack.location).toContain(`/auth/${uid}`);
  // the attacker resumes with its resume cookie: the service hears access_denied, and nobody gets a code
  const resumed = await attacker.browser.follow(await attacker.browser.get(`${gw.issuer}/auth/${uid}`), atRp);
  const q = new URL(resumed.location!).searchParams;
  expect([q.get('error'), q.get('state'), q.get('code')]).toEqual(['access_denied', attacker.state, null]);
  // nor does the attacker's browser keep an engine session logged in as the victim
  const sessions = await Promise.all(
    attacker.browser.history
      .flatMap((hop) => hop.headers.getSetCookie())
      .filter((c) => /^_session=/.test(c))
      .map((c) => gw.gateway.provider.Session.find(c.split(';')[0]!.split('=')[1]!)),
  );
  expect(sessions.filter((found) => found?.accountId)).toEqual([]);
  const refused = (gw.audit as MemoryAuditLog).events.filter(
    (e) => e.type === 'authorization_request_error' && e.correlationId === uid,
  );
  expect(refused.map((e) => e.detail)).toEqual([
    expect.objectContaining({ error: 'access_denied', description: expect.stringMatching(/another browser/) }),
  ]);
});

// The Smart-ID pages serve a login only to the browser that began it (SmartIdAdapter.loginIn). The attack
// this stops: someone begins a login at an agency service and sends its Smart-ID page
// (/providers/smartid/login?h=…) to a victim; the victim types their personal code and confirms on the
// phone, while the attacker's browser, knowing the handle, waits on /wait or /status to be sent on to the
// broker callback with the victim's confirmed session (the broker's own check would pass: that browser
// began the login). Here the victim's browser is told why and starts no session; a session the browser
// that began the login started is sent on to the callback only there; an app returning in another
// browser is refused there.
import { TestCa } from './test-rp-api/ca.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { follow, visit, walkWeb2App } from './test-user.ts';
import { beginLogin, codeOf } from './test-logins.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320017-10001',
  givenName: 'Anna',
  surname: 'Kalna',
  behaviour: 'phone',
};

/** Other browsers: one that never used the gateway, one with a binding of its own. */
const ELSEWHERE: [string, Record<string, string>][] = [
  ['a browser without the binding cookie', {}],
  ['a browser with a binding of its own', { cookie: `vpm-browser=${'B'.repeat(43)}` }],
];

let h: Harness;
let base: string;
const refusalsLogged = () => h.logger.lines.filter((l) => l.includes('Smart-ID page refused')).length;
beforeAll(async () => {
  h = await startHarness({ ca: await TestCa.create(), accounts: [holder] });
  base = `${h.origin}${h.adapter.pagesPath}`;
});
afterAll(() => h.close());

test.each(ELSEWHERE)(
  'the page of a login begun elsewhere, opened in %s: told so, and no session starts for a code typed there',
  async (_, browser) => {
    const login = await beginLogin(h);
    const logged = refusalsLogged();
    const page = await visit(login.action.url, undefined, browser);
    expect(page.status).toBe(400);
    expect(page.body).toContain('tika sākta citā pārlūkprogrammā');
    const posted = await visit(`${base}/login`, { h: login.handle, ...codeOf(holder) }, browser);
    expect(posted.status).toBe(400);
    expect(posted.location).toBeUndefined();
    expect(posted.body).toContain('neapstipriniet neko Smart-ID lietotnē');
    for (const start of ['app', 'qr'])
      expect((await visit(`${base}/${start}`, { h: login.handle }, browser)).status).toBe(400);
    expect(h.rp.api.running(holder.semanticsIdentifier)).toHaveLength(0);
    // the operator hears of it once per login, however often the pages were asked for
    expect(refusalsLogged()).toBe(logged + 1);
    // the login is untouched: the browser that began it still gets its form
    expect((await visit(login.action.url)).status).toBe(200);
  },
);

test.each(ELSEWHERE)(
  'a session confirmed on the phone is sent on to the callback only in the browser that began it, not in %s',
  async (_, browser) => {
    const login = await beginLogin(h);
    const posted = await visit(`${base}/login`, { h: login.handle, ...codeOf(holder) });
    expect(posted.location).toContain(`/wait?h=${login.handle}`);
    await h.phone(holder.semanticsIdentifier, 'confirm');
    // whoever else holds the handle is never sent on, nor can end the login
    const waiting = await visit(`${base}/wait?h=${login.handle}`, undefined, browser);
    expect([waiting.status, waiting.location]).toEqual([400, undefined]);
    const status = await visit(`${base}/status?h=${login.handle}`, undefined, browser);
    expect([status.status, status.body]).toEqual([404, '{"next":null}']);
    expect((await visit(`${base}/cancel`, { h: login.handle }, browser)).status).toBe(400);
    // the browser that began it goes on to the callback, and the broker hands it the identity
    const { outcome } = await login.end(await follow(h, await visit(`${base}/wait?h=${login.handle}`)));
    expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
  },
);

test('the app returning in another browser than the login began in: refused there, and its verifier not kept', async () => {
  const login = await beginLogin(h);
  const arrival = await walkWeb2App(h, login.action, 'confirm', undefined, ELSEWHERE[1]![1]);
  expect('page' in arrival && arrival.page.status).toBe(400);
  expect('page' in arrival && arrival.page.body).toContain('tika sākta citā pārlūkprogrammā');
  // the browser that began the login, back on its page: the session ended, but no verifier came with it
  const { outcome } = await login.end(await follow(h, await visit(`${base}/wait?h=${login.handle}`)));
  expect(outcome).toMatchObject({ code: 'invalid_response', detail: expect.stringContaining('userChallengeVerifier') });
});

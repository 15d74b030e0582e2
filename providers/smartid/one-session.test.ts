// One Smart-ID login holds one RP API session and polls it once at a time, however many requests of its
// pages come at once: a double submit or two tabs start no second session (no second notification on
// the person's phone), and a flood of status requests opens no flood of long polls at SK.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { verificationCode } from './protocol.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { asTestBrowser, follow, visit } from './test-user.ts';
import { beginLogin, codeOf } from './test-logins.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320031-10001',
  givenName: 'Līga',
  surname: 'Ozola',
  behaviour: 'phone',
};

let h: Harness;
let store: RedisStore;
let base: string;
beforeAll(async () => {
  // on Redis: the claim and the poll lease are the store's compare-and-set, as between gateway instances
  store = new RedisStore({
    url: process.env.VPM_TEST_REDIS_URL!,
    prefix: `vpm-test-smartid-one-${randomBytes(6).toString('hex')}:`,
  });
  h = await startHarness({ ca: await TestCa.create(), accounts: [holder], store, entry: { long_poll_ms: 4000 } });
  base = `${h.origin}${h.adapter.pagesPath}`;
});
afterAll(async () => {
  await h.close();
  await store.close();
});

const sessionIds = () => [...h.rp.api.sessions.keys()];

/** `n` requests at once from the browser that began the login. */
const atOnce = (n: number, url: string, form?: Record<string, string>) =>
  Promise.all(Array.from({ length: n }, () => visit(url, form)));

test.each([
  ['the personal code form', '/login', codeOf(holder)],
  ['the QR code start', '/qr', {}],
  ['the Web2App start', '/app', {}],
])('%s submitted five times at once starts one session', async (_name, path, fields) => {
  const before = sessionIds();
  const { handle } = await beginLogin(h);
  const answers = await atOnce(5, `${base}${path}`, { h: handle, ...fields });
  const started = sessionIds().filter((id) => !before.includes(id));
  expect(started).toHaveLength(1);
  expect(answers.map((a) => a.status)).toEqual([303, 303, 303, 303, 303]);
  // every answer leads to the one session: its waiting page, or (Web2App) the link that opens the app on it,
  // whichever tap's answer the browser shows
  const to = new Set(answers.map((a) => a.location));
  expect(to.size).toBe(1);
  if (path === '/app') expect([...to][0]).toMatch(/deviceLinkType=Web2App&sessionToken=/);
  else expect([...to][0]).toBe(`${base}/wait?h=${handle}`);
  const waiting = await visit(`${base}/wait?h=${handle}`);
  expect(waiting.status).toBe(200);
  const session = h.rp.api.sessions.get(started[0]!)!;
  if (path === '/login')
    expect(waiting.body).toContain(`>${verificationCode(Buffer.from(session.rpChallenge, 'base64'))}</p>`);
  await visit(`${base}/cancel`, { h: handle });
});

test('status asked six times at once: one long poll at the RP API, the others told to ask again', async () => {
  const login = await beginLogin(h);
  await visit(`${base}/login`, { h: login.handle, ...codeOf(holder) });
  const session = h.rp.api.running(holder.semanticsIdentifier)[0]!;
  const status = `${base}/status?h=${login.handle}`;
  const polls = Array.from({ length: 6 }, () =>
    fetch(status, { headers: { ...asTestBrowser(status), accept: 'application/json' } }),
  );
  // the five turned away answer at once; the phone then confirms while the one long poll waits
  await new Promise((resolve) => setTimeout(resolve, 300));
  await h.phone(holder.semanticsIdentifier, 'confirm');
  const answers = await Promise.all(polls);
  const busy = answers.filter((a) => a.status === 429);
  expect(busy).toHaveLength(5);
  expect(busy.every((a) => a.headers.get('retry-after') === '2')).toBe(true);
  const polled = answers.find((a) => a.status === 200)!;
  expect(await polled.json()).toEqual({ next: `${h.adapter.pagesPath}/wait?h=${login.handle}` });
  expect(h.rp.api.pollPeaks.get(session.id)).toBe(1);
  // the lease was given back: the login goes on to the callback with the person
  const { outcome } = await login.end(await follow(h, await visit(`${base}/wait?h=${login.handle}`)));
  expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
});

describe('a login whose session is still being started', () => {
  /** A login claimed for a start at `claimedAt` whose RP API session has not (yet) answered. */
  async function claimed(claimedAt: number) {
    const login = await beginLogin(h);
    const stored = (await h.adapter.logins.get(login.handle))!;
    const starting = { ...stored, phase: 'running' as const, flow: 'notification' as const, claimedAt };
    expect(await h.adapter.logins.advance(login.handle, stored, starting)).toBe(true);
    return login;
  }

  test('its waiting page waits, and the status script is sent to reload it, polling nothing', async () => {
    const polls = h.rp.api.pollPeaks.size;
    const { handle } = await claimed(Date.now());
    const waiting = await visit(`${base}/wait?h=${handle}`);
    expect(waiting.status).toBe(200);
    expect(waiting.body).toContain('status?h=');
    const status = `${base}/status?h=${handle}`;
    const answer = await fetch(status, { headers: { ...asTestBrowser(status), accept: 'application/json' } });
    expect(await answer.json()).toEqual({ next: `${h.adapter.pagesPath}/wait?h=${handle}` });
    expect(h.rp.api.pollPeaks.size).toBe(polls);
    // a second submit of the form starts nothing either
    const sessions = h.rp.api.sessions.size;
    expect((await visit(`${base}/login`, { h: handle, ...codeOf(holder) })).location).toBe(`${base}/wait?h=${handle}`);
    expect(h.rp.api.sessions.size).toBe(sessions);
  });

  test('a start that never answered (its process died) ends as a technical failure, with the way back', async () => {
    const login = await claimed(Date.now() - 60_000);
    const arrival = await follow(h, await visit(`${base}/wait?h=${login.handle}`));
    expect('endPage' in arrival && arrival.endPage).toContain('Smart-ID');
    const { outcome } = await login.end(arrival);
    expect(outcome).toMatchObject({ code: 'temporarily_unavailable' });
    expect(h.logger.lines.some((l) => l.includes('session start lost'))).toBe(true);
  });
});

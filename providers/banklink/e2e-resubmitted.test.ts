// A bank's answer posted twice by the browser it came back through: the citizen double-clicks the bank's
// "return to the service" button, or the browser posts the answer form again. The browser shows the answer
// to the last post, so that one too must lead on to the login's resume, where the engine hands out one code
// (test/e2e/resume-once.test.ts); the answer is verified once. The same answer posted by another browser,
// or again after the login finished, a refused answer posted again, and another answer for the same login
// are refused as any replay is (test/e2e/abuse.test.ts). On the tests'
// Redis, where real round trips let the two posts interleave.
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { Browser, type Hop } from '../../test/support/browser.ts';
import { atRp, claimsOf } from '../../test/support/gateway.ts';
import { testPrefix, testRedisStore } from '../../test/support/redis-store.ts';
import { loginAtBank, signedByBank, useBankGateway, type BankLogin } from './test-gateway.ts';

const prefix = testPrefix();
const gw = useBankGateway(({ cleanup }) => testRedisStore(prefix, cleanup));

const callbackUrl = () => `${gw.issuer}/broker/callback/modernbank`;
const codeOf = (hop: Hop) => (atRp(hop) ? new URL(hop.location!).searchParams.get('code') : null);
const uidOf = (l: BankLogin) =>
  l.browser.history.map((h) => /\/interaction\/([^/?]+)/.exec(h.location ?? '')?.[1]).find(Boolean)!;
const eventsOf = (uid: string) =>
  (gw.audit as unknown as MemoryAuditLog).events.filter((e) => e.correlationId === uid).map((e) => e.type);
const refusalsOf = (uid: string) =>
  (gw.audit as unknown as MemoryAuditLog).events
    .filter((e) => e.correlationId === uid && e.type === 'provider_response_error')
    .map((e) => e.detail?.reason);

/** The posts' answers all lead to the resume; followed at once, they give one code, for Jānis. */
async function expectOneLoginOfJanis(l: BankLogin, posts: Hop[]) {
  const uid = uidOf(l);
  for (const post of posts) expect([post.status, post.location]).toEqual([303, `${gw.issuer}/auth/${uid}`]);
  const finals = await Promise.all(posts.map((post) => l.browser.follow(post, atRp)));
  const codes = finals.map(codeOf).filter(Boolean);
  expect(codes).toHaveLength(1);
  const claims = await claimsOf(gw.rp, l.login, finals.find(codeOf)!);
  expect(claims).toMatchObject({ sub: 'PNOLV-010180-15097', personal_code: '010180-15097', idp: 'modernbank' });
  // verified once, and the second post recorded as a resubmission, not as a second success
  const events = eventsOf(uid);
  expect(events.filter((t) => t === 'provider_response')).toHaveLength(1);
  expect(events.filter((t) => t === 'verification')).toHaveLength(1);
  expect(refusalsOf(uid)).toEqual([expect.stringMatching(/resubmitted by the browser/)]);
  return uid;
}

test('two posts of the answer at once: the browser, whichever answer it shows, goes on to one code for the person', async () => {
  const l = await loginAtBank('modernbank', { deliver: false });
  const posts = await Promise.all([l.browser.post(callbackUrl(), l.answer), l.browser.post(callbackUrl(), l.answer)]);
  await expectOneLoginOfJanis(l, posts);
});

test('the answer posted again after the first post was answered: the second answer leads on to the login too', async () => {
  const l = await loginAtBank('modernbank', { deliver: false });
  const first = await l.browser.post(callbackUrl(), l.answer);
  const second = await l.browser.post(callbackUrl(), l.answer);
  const uid = await expectOneLoginOfJanis(l, [second, first]);
  // once the login has finished, the answer posted yet again is refused as any replay is
  const late = await l.browser.post(callbackUrl(), l.answer);
  expect(late.status).toBe(400);
  expect(late.location).toBeUndefined();
  expect(late.body).toContain('already completed or is no longer valid');
  expect(refusalsOf(uid)).toHaveLength(2);
});

test.each([
  ['without a binding cookie', async () => new Browser()],
  // one that began a login of its own carries a binding value, which is not the answer's browser's
  ['with a login of its own', async () => (await loginAtBank('modernbank', { deliver: false })).browser],
])(
  'the verified answer replayed by another browser %s: refused, and the login goes on in its own browser alone',
  async (_, otherBrowser) => {
    const l = await loginAtBank('modernbank', { deliver: false });
    const first = await l.browser.post(callbackUrl(), l.answer);
    const other = await otherBrowser();
    const replay = await other.post(callbackUrl(), l.answer);
    expect(replay.status).toBe(400);
    expect(replay.location).toBeUndefined();
    expect(replay.body).toContain('already completed or is no longer valid');
    expect(replay.body).not.toContain('/auth/');
    const uid = uidOf(l);
    expect(refusalsOf(uid)).toEqual(['unknown, expired or already used state']);
    const final = await l.browser.follow(first, atRp);
    expect((await claimsOf(gw.rp, l.login, final)).personal_code).toBe('010180-15097');
  },
);

test('a refused answer posted again by its browser: the same refusal as any replay, no way on to the resume', async () => {
  const l = await loginAtBank('modernbank', { misbehave: 'bad_signature', deliver: false });
  const first = await l.browser.post(callbackUrl(), l.answer);
  expect(first.status).toBe(400);
  const again = await l.browser.post(callbackUrl(), l.answer);
  expect(again.status).toBe(400);
  expect(again.location).toBeUndefined();
  expect(again.body).toContain('already completed or is no longer valid');
  expect(eventsOf(uidOf(l)).filter((t) => t === 'verification')).toHaveLength(0);
});

test('another answer for the same login posted by its browser after the verified one: refused as any replay', async () => {
  const l = await loginAtBank('modernbank', { deliver: false });
  const first = await l.browser.post(callbackUrl(), l.answer);
  expect(first.status).toBe(303);
  const other = signedByBank('modernbank', l.answer, { VK_USER_NAME: 'OTHER,PERSON' });
  const again = await l.browser.post(callbackUrl(), other);
  expect(again.status).toBe(400);
  expect(again.location).toBeUndefined();
  expect(again.body).toContain('already completed or is no longer valid');
  expect(refusalsOf(uidOf(l))).toEqual(['unknown, expired or already used state']);
});

// Notification bombing: whoever types a personal code makes that person's phone ask. Two adapter instances
// of one entry on one Redis start, per person, one notification session at a time and at most three a
// window that the person did not confirm; a start beyond ends its login with a page in its language and
// temporarily_unavailable at the service, one audit record and one log line without the personal code.
// The keys holding the count carry no personal code, and QR and Web2App starts (which name nobody) are not
// counted.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisStore } from '../../src/store/redis.ts';
import { escapeHtml } from '../../src/web/html.ts';
import { msg, type Lang } from './messages.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { beginLogin, codeOf, loginAs } from './test-logins.ts';
import { follow, visit } from './test-user.ts';

const person = (code: string, givenName: string): TestAccount => ({
  semanticsIdentifier: `PNOLV-${code}`,
  givenName,
  surname: 'Bērziņa',
  behaviour: 'phone',
});
const victim = person('320041-10001', 'Anna');
const regular = person('320042-10001', 'Ilze');
const targeted = person('320043-10001', 'Marta');
const speaker = person('320044-10001', 'Olga');
const v2person = person('320045-10001', 'Inga');

const prefix = `vpm-test-smartid-limit-${randomBytes(6).toString('hex')}:`;
let store: RedisStore;
let ca: TestCa;
let a: Harness;
let b: Harness;
beforeAll(async () => {
  store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
  ca = await TestCa.create();
  a = await startHarness({ ca, store, accounts: [victim, regular, targeted, speaker, v2person] });
  // a second instance of the same entry in front of the same RP API and store (another worker or host)
  b = await startHarness({ ca, store, rp: a.rp });
});
afterAll(async () => {
  await b.close();
  await a.close();
  await store.close();
});

const sessionsOf = (who: TestAccount) =>
  [...a.rp.api.sessions.values()].filter((s) => s.account.semanticsIdentifier === who.semanticsIdentifier);
const pages = (h: Harness) => `${h.origin}${h.adapter.pagesPath}`;
const refusals = (correlationId: string) =>
  [...a.audit.events, ...b.audit.events].filter(
    (e) => e.correlationId === correlationId && e.detail?.bucket === 'smartid_person',
  );

/** A login begun on instance `h`, its form posted naming `who`: where the post sent the browser. */
async function start(h: Harness, who: TestAccount, correlationId: string, lang?: Lang) {
  const login = await beginLogin(h, { correlationId, ...(lang === 'lv' ? { locale: 'lv' as const } : {}) });
  const posted = await visit(`${pages(h)}/login`, { h: login.handle, ...codeOf(who), ...(lang ? { lang } : {}) });
  return { h, login, posted, correlationId };
}

/** Follows a start that was refused: its page, and what the service got. */
async function refused(begun: Awaited<ReturnType<typeof start>>) {
  const arrival = await follow(begun.h, begun.posted);
  const { outcome } = await begun.login.end(arrival);
  return { page: 'endPage' in arrival ? (arrival.endPage ?? '') : '', outcome };
}

test('twenty starts naming one person on two instances: one prompt at a time, three in the window, the rest refused', async () => {
  const attempts: Awaited<ReturnType<typeof start>>[] = [];
  for (let round = 1; round <= 4; round++) {
    const burst = await Promise.all(
      Array.from({ length: 5 }, (_, i) => start(i % 2 ? a : b, victim, `bomb-${round}-${i}`)),
    );
    attempts.push(...burst);
    // rounds 1-3: one new prompt (the others meet it running); round 4: the window's three are spent
    expect(sessionsOf(victim)).toHaveLength(Math.min(round, 3));
    expect(a.rp.api.running(victim.semanticsIdentifier).length).toBeLessThanOrEqual(1);
    // the person refuses the prompt in the app
    if (round <= 3) await a.phone(victim.semanticsIdentifier, 'refuse');
  }
  expect(attempts.map((t) => t.posted.status)).toEqual(Array(20).fill(303));
  const stopped = [];
  for (const attempt of attempts) {
    // the three started ended as the phone refused them; the others never reached the RP API
    if ((await attempt.h.adapter.logins.get(attempt.login.handle))?.ending?.type !== 'person_limit') continue;
    stopped.push(attempt);
    const { page, outcome } = await refused(attempt);
    expect(page).toContain(escapeHtml(msg('en', 'end_too_many')));
    expect(page).toContain('Back to the service');
    expect(outcome).toMatchObject({ code: 'temporarily_unavailable' });
    // one audit record of the refusal, the person as the audit's subject (hashed where it is written)
    expect(refusals(attempt.correlationId)).toEqual([
      expect.objectContaining({
        type: 'error',
        providerId: 'smartid',
        person: { subject: victim.semanticsIdentifier },
        detail: expect.objectContaining({ reason: 'rate_limited', starts: 3, window_seconds: 300 }),
      }),
    ]);
  }
  expect(stopped).toHaveLength(17);
  expect(stopped.flatMap((t) => refusals(t.correlationId).map((e) => e.detail?.why))).toEqual(
    expect.arrayContaining(['running', 'starts']),
  );
  // one log line per refused login, with its correlation id; no line names the person
  const lines = [...a.logger.lines, ...b.logger.lines];
  const limited = lines.map((l) => JSON.parse(l)).filter((l) => l.ending === 'person_limit');
  expect(limited.map((l) => l.correlationId).sort()).toEqual(stopped.map((t) => t.correlationId).sort());
  expect(lines.filter((l) => l.includes(victim.semanticsIdentifier.slice(6)))).toEqual([]);
  // the count lives under a keyed hash of the person, not the personal code
  const keys = (await (store.client as Redis).keys(`${prefix}*`)).map((k) => k.slice(prefix.length));
  expect(keys.filter((k) => k.startsWith('smartid:smartid:person:'))).not.toEqual([]);
  const code = victim.semanticsIdentifier.slice(6);
  expect(keys.filter((k) => k.includes(code) || k.includes(code.replace('-', '')))).toEqual([]);
});

test('a person logging in again and again, confirming each time, is never counted', async () => {
  for (let i = 0; i < 5; i++) {
    const { outcome } = await loginAs(i % 2 ? a : b, codeOf(regular), { phone: 'confirm' });
    expect(outcome).toMatchObject({ identity: { subject: regular.semanticsIdentifier } });
  }
  expect(sessionsOf(regular)).toHaveLength(5);
});

test("someone else's prompt running: the person's own start is refused; once they refuse it in the app, theirs starts", async () => {
  const other = await start(a, targeted, 'other-1');
  expect(sessionsOf(targeted)).toHaveLength(1);
  const own = await start(b, targeted, 'own-1');
  expect((await refused(own)).outcome).toMatchObject({ code: 'temporarily_unavailable' });
  expect(sessionsOf(targeted)).toHaveLength(1);
  await a.phone(targeted.semanticsIdentifier, 'refuse');
  // the running session is asked about once more: it has ended, so it holds the person's prompt no longer
  const again = await start(b, targeted, 'own-2');
  await b.phone(targeted.semanticsIdentifier, 'confirm');
  const { outcome } = await again.login.end(await follow(b, again.posted));
  expect(outcome).toMatchObject({ identity: { subject: targeted.semanticsIdentifier } });
  expect(sessionsOf(targeted)).toHaveLength(2);
  expect(await a.adapter.logins.get(other.login.handle)).toMatchObject({ ending: { type: 'end' } });
});

test('RP API v2 (a hash to sign, the same push to the phone): one running session per person too', async () => {
  const v2 = await startHarness({ ca, store, rp: a.rp, v2: true });
  try {
    const first = await start(v2, v2person, 'v2-1');
    const second = await start(v2, v2person, 'v2-2');
    expect(sessionsOf(v2person).map((s) => !!s.v2Hash)).toEqual([true]);
    expect((await refused(second)).outcome).toMatchObject({ code: 'temporarily_unavailable' });
    await visit(`${pages(v2)}/cancel`, { h: first.login.handle });
  } finally {
    await v2.close();
  }
});

test('the refusal speaks the language of the login: Latvian, English and Russian', async () => {
  const holder = await start(a, speaker, 'speaker-0');
  for (const lang of ['lv', 'en', 'ru'] as const) {
    const { page, outcome } = await refused(await start(b, speaker, `speaker-${lang}`, lang));
    expect(page).toContain(`<html lang="${lang}"`);
    expect(page).toContain(escapeHtml(msg(lang, 'end_too_many')));
    expect(page).toContain(escapeHtml(msg(lang, 'back_to_service')));
    expect(outcome).toMatchObject({ code: 'temporarily_unavailable' });
  }
  await visit(`${pages(a)}/cancel`, { h: holder.login.handle });
});

test('QR and Web2App starts name nobody and are not limited, even for a person whose window is spent', async () => {
  const before = a.rp.api.sessions.size;
  for (const path of ['/qr', '/app', '/qr', '/app', '/qr']) {
    const login = await beginLogin(a);
    const answer = await visit(`${pages(a)}${path}`, { h: login.handle });
    expect(answer.status).toBe(303);
    await visit(`${pages(a)}/cancel`, { h: login.handle });
  }
  expect(a.rp.api.sessions.size).toBe(before + 5);
  // the bombed person can still scan a QR code
  a.rp.api.holdDevice(victim);
  const login = await beginLogin(b);
  const waiting = await visit(`${pages(b)}/qr`, { h: login.handle });
  const page = await visit(waiting.location!);
  const link = /data-link="([^"]+)"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
  expect(await b.scan(link, 'confirm')).toEqual({ status: 204 });
  const { outcome } = await login.end(await follow(b, await visit(waiting.location!)));
  expect(outcome).toMatchObject({ identity: { subject: victim.semanticsIdentifier } });
});

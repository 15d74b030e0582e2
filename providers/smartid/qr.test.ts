// The QR device-link flow against the test RP API over pinned TLS: the waiting page shows the dynamic
// link (page data, the SVG's title, the text alternative), the test phone scans it and checks its
// authCode and elapsedSeconds as the app does, and the answer is verified as a QR-flow ACSP_V2 signature.
import { BrokerError } from '../../src/login/broker-error.ts';
import { TestCa } from './test-rp-api/ca.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { asTestBrowser, follow, visit } from './test-user.ts';
import { beginLogin } from './test-logins.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320000-10003',
  givenName: 'Anna',
  surname: 'Kalniņa',
  behaviour: 'phone',
};
const fromHtml = (s: string) => s.replace(/&amp;/g, '&');

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ ca: await TestCa.create(), accounts: [holder] });
});
afterAll(() => h.close());

/** From the broker to the waiting page of a started QR login. */
async function toQrPage() {
  const login = await beginLogin(h);
  const { action, handle } = login;
  const form = await visit(action.url);
  expect(form.body).toContain('data-flow="qr"');
  const started = await visit(`${h.origin}${h.adapter.pagesPath}/qr`, { h: handle });
  expect(started.location).toBe(`${h.origin}${h.adapter.pagesPath}/wait?h=${handle}`);
  const wait = () => visit(started.location!);
  const linkOn = async () => {
    const page = await wait();
    expect(page.status).toBe(200);
    return fromHtml(/data-link="([^"]+)"/.exec(page.body)![1]!);
  };
  const session = () => [...h.rp.api.sessions.values()].at(-1)!;
  /** As if `seconds` had passed: the RP API's session and the gateway's login both started that much earlier. */
  const age = async (seconds: number) => {
    session().createdAt -= seconds * 1000;
    const stored = (await h.adapter.logins.get(handle))!;
    await h.adapter.logins.advance(handle, stored, {
      ...stored,
      linkStartedAt: stored.linkStartedAt! - seconds * 1000,
    });
  };
  const end = async () => login.end(await follow(h, await wait()));
  return { handle, wait, linkOn, session, age, end };
}

test('a QR login: the page shows the dynamic link, the phone scans and confirms, the holder is logged in', async () => {
  const qr = await toQrPage();
  const page = await qr.wait();
  expect(page.body).toMatch(/<img id="qr" src="[^"]+\/qr\.svg\?h=/);
  expect(page.body).not.toContain('id="vc"'); // no verification code in the QR flow
  expect(page.body).toContain('<meta http-equiv="refresh" content="1">');
  const link = await qr.linkOn();
  const url = new URL(link);
  expect(url.origin + url.pathname).toBe(new URL('/device-link', h.rp.url).toString());
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    deviceLinkType: 'QR',
    elapsedSeconds: expect.stringMatching(/^[0-5]$/),
    sessionType: 'auth',
    version: '1.0',
    lang: 'eng',
    authCode: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  });
  expect(url.searchParams.get('sessionToken')).toBe(qr.session().sessionToken);

  const base = `${h.origin}${h.adapter.pagesPath}/qr.svg?h=${qr.handle}`;
  const svg = await fetch(base, { headers: asTestBrowser(base) });
  expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
  const drawn = await svg.text();
  expect(drawn).toMatch(/^<svg[^>]*role="img"><title>https:\/\/127\.0\.0\.1:\d+\/device-link\?deviceLinkType=QR&amp;/);
  expect(drawn).toContain('<path');
  const text = await (await fetch(`${base}&format=text`, { headers: asTestBrowser(base) })).text();
  expect(new URL(text).searchParams.get('sessionToken')).toBe(url.searchParams.get('sessionToken'));

  expect(await h.scan(text, 'confirm')).toEqual({ status: 204 });
  const { outcome } = await qr.end();
  expect(outcome).toMatchObject({
    identity: { subject: holder.semanticsIdentifier, givenName: 'Anna', loa: 'high', amr: ['smart_id'] },
  });
  expect(qr.session().flowType).toBe('QR');
  expect(qr.session().initialCallbackUrl).toBeUndefined();
});

test('the link is rebuilt as time passes: elapsedSeconds and authCode change, and the newer link is accepted', async () => {
  const qr = await toQrPage();
  const first = new URL(await qr.linkOn());
  await qr.age(7);
  const later = new URL(await qr.linkOn());
  expect(Number(later.searchParams.get('elapsedSeconds'))).toBeGreaterThanOrEqual(7);
  expect(later.searchParams.get('authCode')).not.toBe(first.searchParams.get('authCode'));
  expect(later.searchParams.get('sessionToken')).toBe(first.searchParams.get('sessionToken'));
  expect(await h.scan(later.toString())).toEqual({ status: 204 });
  expect((await qr.end()).outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
});

test('a stale QR code (photographed a minute ago) is refused by the phone; the current one works', async () => {
  const qr = await toQrPage();
  const old = await qr.linkOn();
  await qr.age(60);
  expect(await h.scan(old)).toMatchObject({ status: 400, title: expect.stringContaining('stale') });
  expect(qr.session().result).toBeUndefined();
  expect(await h.scan(await qr.linkOn())).toEqual({ status: 204 });
  expect((await qr.end()).outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
});

test('a forged link is refused by the phone: elapsedSeconds or authCode altered, authCode missing', async () => {
  const qr = await toQrPage();
  const link = await qr.linkOn();
  const url = new URL(link);
  const elapsed = Number(url.searchParams.get('elapsedSeconds'));
  const moved = link.replace(/elapsedSeconds=\d+/, `elapsedSeconds=${elapsed + 1}`);
  const code = url.searchParams.get('authCode')!;
  const flipped = link.replace(code, `${code.slice(0, -2)}${code.endsWith('AA') ? 'BB' : 'AA'}`);
  const withoutCode = link.slice(0, link.indexOf('&authCode='));
  for (const forged of [moved, flipped])
    expect(await h.scan(forged)).toMatchObject({ status: 400, title: expect.stringContaining('does not verify') });
  expect(await h.scan(withoutCode)).toMatchObject({ status: 400, title: expect.stringContaining('authCode') });
  expect(qr.session().result).toBeUndefined();
  // the genuine link still works afterwards
  expect(await h.scan(link)).toEqual({ status: 204 });
});

test('refused on the phone: user_cancel after the page saying so; the QR route is gone once the login ended', async () => {
  const qr = await toQrPage();
  expect(await h.scan(await qr.linkOn(), 'refuse')).toEqual({ status: 204 });
  const { outcome, arrival } = await qr.end();
  expect(outcome).toBeInstanceOf(BrokerError);
  expect(outcome).toMatchObject({ code: 'user_cancel', userInformed: true });
  expect('callback' in arrival && arrival.endPage).toContain('You refused');
  const gone = await fetch(`${h.origin}${h.adapter.pagesPath}/qr.svg?h=${qr.handle}`, {
    headers: asTestBrowser(h.origin),
  });
  expect(gone.status).toBe(404);
});

test('no QR for an unknown handle; a QR start with a forged handle gets the expired page', async () => {
  const res = await fetch(`${h.origin}${h.adapter.pagesPath}/qr.svg?h=${'A'.repeat(32)}`);
  expect(res.status).toBe(404);
  const bad = await visit(`${h.origin}${h.adapter.pagesPath}/qr`, { h: 'nope' });
  expect(bad.status).toBe(400);
});

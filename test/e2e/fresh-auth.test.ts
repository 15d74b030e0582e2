// No silent single sign-on through the gateway: two logins in one browser (a shared computer), each
// through a real upstream that keeps its own session: the test OIDC eID (node-oidc-provider) and the test
// SAML IdP. The second login must make the upstream authenticate the person again; an upstream that
// answers from its old session instead is refused; and the ID token's auth_time is the upstream's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { jest } from '@jest/globals';
import { SignJWT, importJWK } from 'jose';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import type { SamlAdapter } from '../../providers/saml/index.ts';
import { startTestOp, EIDAS, type TestOp } from '../../providers/oidc/test-op/index.ts';
import {
  makeGatewayKeyFiles,
  providerEntry,
  testOpClient,
  type GatewayKeyFiles,
} from '../../providers/oidc/test-op/fixtures.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from '../../providers/saml/test-idp/index.ts';
import { Browser, parseAutoPost, type Hop } from '../support/browser.ts';
import { setClock } from '../support/clock.ts';
import { useGateway, beginLogin, atRp, claimsOf } from '../support/gateway.ts';
import { SAML_TEST_ENTRY } from '../support/provider-entries.ts';

let op: TestOp;
let idp: RunningTestIdp;
let keys: GatewayKeyFiles;
/** auth_time of each ID token the eID issued, in order */
const upstreamAuthTimes: number[] = [];
/** how far (s) the eID's clock is off ours */
let opClockOffset = 0;

const gw = useGateway(async ({ dir, cleanup }) => {
  keys = await makeGatewayKeyFiles(dir);
  // plain http on loopback, so that one cookie-keeping browser holds both the gateway's and the eID's cookies
  op = await startTestOp({ https: false });
  cleanup(() => op.close());
  idp = await startTestIdp({
    sp: () => {
      const a = gw.gateway.adapters.get('saml-eid') as SamlAdapter;
      return { entityId: a.spEntityId, signingCert: a.certificates.signing, acsUrl: a.metadataAcsUrl };
    },
    loa: 'high',
  });
  cleanup(() => idp.close());
  writeFileSync(join(dir, 'idp.pem'), idp.key.cert);
  return {
    providers: [
      providerEntry(op, 'client_secret', keys, 'oidc-eid'),
      {
        ...SAML_TEST_ENTRY,
        id: 'saml-eid',
        name: { lv: 'SAML eID', en: 'SAML eID' },
        idp: { entity_id: idp.entityId, sso_url: idp.ssoUrl, certificates: [join(dir, 'idp.pem')] },
        clock_skew_seconds: 30,
      },
    ],
  };
});

beforeAll(() => {
  op.addClient(testOpClient('client_secret', `${gw.issuer}/broker/callback/oidc-eid`, keys));
  // observe the eID's ID tokens (re-signed with its key, auth_time on the eID's clock) to compare auth_time
  op.tamper.idToken = async (genuine, key) => {
    const claims = { ...genuine, auth_time: (genuine.auth_time as number) + opClockOffset };
    upstreamAuthTimes.push(claims.auth_time);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid!, typ: 'JWT' })
      .sign(await importJWK(key, 'RS256'));
  };
});

afterEach(() => {
  delete op.tamper.ignoreFreshness;
  opClockOffset = 0;
  idp.misbehave.ignoreForceAuthn = false;
  idp.misbehave.clockOffsetSeconds = 0;
  jest.useRealTimers();
});

/** The agency service starts a login at `providerId`; the browser goes as far as it goes without a person. */
async function start(browser: Browser, providerId: string, params: Record<string, string> = {}) {
  const started = await beginLogin(gw.rp, { idp_hint: providerId, ui_locales: 'en', ...params }, browser);
  const page = await browser.follow(started.hop, atRp);
  return { ...started, page };
}

/** A refused answer: the user sees why and a way back; the agency service gets access_denied for its state. */
async function expectRefused(browser: Browser, page: Hop, state: string, providerId: string, reason: RegExp) {
  expect(page.status).toBe(400);
  expect(page.url).toMatch(new RegExp(`/broker/callback/${providerId}`));
  expect(page.body).toContain('The provider&#39;s answer could not be verified.');
  const back = /<a class="button" href="([^"]+\/complete)">/.exec(page.body)?.[1];
  expect(back).toBeDefined();
  const final = await browser.follow(await browser.get(new URL(back!, gw.issuer).toString()), atRp);
  const q = new URL(final.location!).searchParams;
  expect([q.get('error'), q.get('state'), q.get('code')]).toEqual(['access_denied', state, null]);
  const last = (gw.audit as MemoryAuditLog).events
    .filter((e) => e.type === 'verification_error' && e.providerId === providerId)
    .at(-1)!;
  expect(last.detail).toMatchObject({ code: 'invalid_response', reason: expect.stringMatching(reason) });
  expect(gw.logLines.join('\n')).not.toMatch(/010180-15097/);
}

describe('upstream OIDC eID', () => {
  const loginPage = (h: Hop) => h.status === 200 && h.url.startsWith(`${op.issuer}/interaction/`);

  async function logIn(browser: Browser, page: Hop): Promise<Hop> {
    const action = /<form method="post" action="([^"]+\/login)">/.exec(page.body)?.[1];
    expect(action).toBeDefined();
    return browser.follow(
      await browser.post(new URL(action!, page.url).toString(), { user: 'valid', acr: EIDAS.high, amr: 'smart_card' }),
      atRp,
    );
  }

  test("two logins in one browser: the eID asks again the second time, and auth_time is the eID's each time", async () => {
    const browser = new Browser();
    for (const round of [1, 2]) {
      // the second time the eID's clock is 20 s behind ours (within clock_tolerance): auth_time is still its own
      opClockOffset = round === 1 ? 0 : -20;
      const l = await start(browser, 'oidc-eid');
      const request = new URL(browser.history.filter((h) => h.url.startsWith(`${op.issuer}/auth?`)).at(-1)!.url)
        .searchParams;
      expect([request.get('prompt'), request.get('max_age')]).toEqual(['login', '0']);
      expect(loginPage(l.page)).toBe(true); // the person is asked, not recognised from the first round
      const claims = await claimsOf(gw.rp, l, await logIn(browser, l.page));
      expect(claims).toMatchObject({ sub: 'PNOLV-010180-15097', acr: 'high', idp: 'oidc-eid' });
      expect(upstreamAuthTimes).toHaveLength(round);
      expect(claims.auth_time).toBe(upstreamAuthTimes.at(-1));
    }
    // the eID really holds a session for this browser: a request without prompt=login gets no login page
    const request = new URL(browser.history.filter((h) => h.url.startsWith(`${op.issuer}/auth?`)).at(-1)!.url);
    request.searchParams.delete('prompt');
    request.searchParams.delete('max_age');
    const silent = await browser.follow(
      await browser.get(request.href),
      (h) => !!h.location?.startsWith(`${gw.issuer}/broker/callback/oidc-eid?code=`),
    );
    expect(silent.location).toContain('code=');
  });

  test("an eID that ignores prompt=login answers from the previous person's session: refused", async () => {
    const browser = new Browser();
    const first = await start(browser, 'oidc-eid');
    await claimsOf(gw.rp, first, await logIn(browser, first.page));
    // the previous person walked away ten minutes ago; the eID reuses their session without asking
    op.ageSessions(600);
    op.tamper.ignoreFreshness = true;
    const second = await start(browser, 'oidc-eid');
    expect(browser.history.some((h) => loginPage(h) && h !== first.page)).toBe(false);
    await expectRefused(
      browser,
      second.page,
      second.state,
      'oidc-eid',
      /ID token auth_time is 6\d\d s before this login started/,
    );
  });
});

describe('upstream SAML IdP', () => {
  const loginPage = (h: Hop) =>
    h.status === 200 && h.url.startsWith(`${idp.url}/sso`) && h.body.includes('Test SAML IdP');

  async function logIn(browser: Browser, page: Hop): Promise<{ final: Hop; authnInstant: number }> {
    const form = parseForm(page.body);
    const answer = await browser.post(form.action, { ...form.fields, user: '0', action: 'login' });
    const xml = Buffer.from(parseAutoPost(answer.body, answer.url)!.fields.SAMLResponse!, 'base64').toString('utf8');
    const authnInstant = Date.parse(/AuthnInstant="([^"]+)"/.exec(xml)![1]!);
    return { final: await browser.follow(answer, atRp), authnInstant };
  }

  test('two logins in one browser: ForceAuthn makes the IdP ask again, and auth_time is the AuthnInstant', async () => {
    const browser = new Browser();
    for (let round = 0; round < 2; round += 1) {
      // the second time the IdP's clock is 20 s behind ours (within clock_skew_seconds)
      idp.misbehave.clockOffsetSeconds = round === 0 ? 0 : -20;
      const l = await start(browser, 'saml-eid');
      const request = new URL(browser.history.filter((h) => h.url.startsWith(`${idp.url}/sso?`)).at(-1)!.url);
      expect(inflateRawSync(Buffer.from(request.searchParams.get('SAMLRequest')!, 'base64')).toString()).toContain(
        'ForceAuthn="true"',
      );
      expect(loginPage(l.page)).toBe(true);
      const { final, authnInstant } = await logIn(browser, l.page);
      const claims = await claimsOf(gw.rp, l, final);
      expect(claims).toMatchObject({ sub: 'PNOLV-010180-15097', idp: 'saml-eid' });
      expect(claims.auth_time).toBe(Math.floor(authnInstant / 1000));
    }
  });

  test("an IdP that ignores ForceAuthn answers from the previous person's session: refused", async () => {
    const browser = new Browser();
    const first = await start(browser, 'saml-eid');
    await claimsOf(gw.rp, first, (await logIn(browser, first.page)).final);
    idp.ageSessions(600);
    idp.misbehave.ignoreForceAuthn = true;
    // no login page: the IdP's auto-posted answer goes straight back to the gateway
    const second = await start(browser, 'saml-eid');
    expect(browser.history.filter(loginPage)).toEqual([first.page]);
    await expectRefused(
      browser,
      second.page,
      second.state,
      'saml-eid',
      /AuthnInstant is 6\d\d s before this login started/,
    );
  });
});

// OpenID Connect Core 3.1.2.1: past the service's max_age the OP must authenticate the person again. On a
// shared computer the IdP's answer page can be left open after the person walked away; whoever sends it
// on later must not be logged in as them by a service that asked for a recent authentication.
describe("the service's max_age", () => {
  /** The person authenticates at the IdP at once; its answer is posted `delaySeconds` later. */
  async function answeredLate(params: Record<string, string>, delaySeconds: number) {
    const browser = new Browser();
    const l = await start(browser, 'saml-eid', params);
    const form = parseForm(l.page.body);
    const answer = await browser.post(form.action, { ...form.fields, user: '0', action: 'login' });
    const post = parseAutoPost(answer.body, answer.url)!;
    setClock(Date.now() + delaySeconds * 1000);
    return { browser, l, final: await browser.follow(await browser.post(post.action, post.fields), atRp) };
  }

  test('an answer older than max_age when it arrives is refused: access_denied, no code', async () => {
    const { browser, l, final } = await answeredLate({ max_age: '60' }, 200);
    await expectRefused(
      browser,
      final,
      l.state,
      'saml-eid',
      /AuthnInstant is older than the service's max_age allows \(1\d\d s beyond it\)/,
    );
  });

  test('the same late answer logs in within max_age, and without one', async () => {
    for (const params of [{ max_age: '600' }, {}] as Record<string, string>[]) {
      const { l, final } = await answeredLate(params, 200);
      expect((await claimsOf(gw.rp, l, final)).sub).toBe('PNOLV-010180-15097');
    }
  });
});

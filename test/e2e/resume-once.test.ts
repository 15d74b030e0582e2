// One authentication at the provider gives one authorization code at most, on the Redis store, where real
// round trips let requests interleave: the browser that completed the login resuming it at /auth/<uid>
// several times at once (a double click, a retrying proxy), and one pushed request_uri used several times
// at once (RFC 9126 4: single use). Whatever is not the one code is an error page, never a 500.
import { expect, test } from '@jest/globals';
import * as oidc from 'openid-client';
import { Browser, type Hop } from '../support/browser.ts';
import { atRp, exchangeCode, mockProviderLogin, RP_REDIRECT, useGateway } from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const prefix = testPrefix();
const gw = useGateway(({ cleanup }) => {
  return { store: testRedisStore(prefix, cleanup) };
});

const ROUNDS = 6;
const AT_ONCE = 5;

/** An authorization request as the agency service makes it: PKCE, state and nonce. */
async function request() {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = {
    redirect_uri: RP_REDIRECT,
    scope: 'openid personal_code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    idp_hint: 'mock-eid',
    ui_locales: 'en',
  };
  return { sent: { verifier, state: params.state, nonce: params.nonce }, params };
}

/** From an authorization request's first hop through the mock eID to the resume (not requested). */
async function toResume(browser: Browser, first: Hop): Promise<string> {
  const authorize = await browser.follow(first, (h) => !!h.location?.includes('/providers/mock-eid/authorize'));
  const answer = await mockProviderLogin(browser, authorize, 0);
  const callback = await browser.get(answer.location!);
  expect(callback.location).toMatch(/\/auth\/[^/]+$/);
  return callback.location!;
}

const codeOf = (hop: Hop) => (atRp(hop) ? new URL(hop.location!).searchParams.get('code') : null);

/** Every hop is the one code, an OAuth error at the service or a page (the engine's, in the user's language). */
function expectOneCode(hops: Hop[]): string[] {
  const codes = hops.map(codeOf).filter((c): c is string => !!c);
  expect(codes.length).toBeLessThanOrEqual(1);
  for (const hop of hops.filter((h) => !codeOf(h))) {
    if (atRp(hop)) expect(new URL(hop.location!).searchParams.get('error')).toBeTruthy();
    else expect([hop.status, hop.location, hop.body.includes('code=')]).toEqual([400, undefined, false]);
  }
  return codes;
}

test('a completed login resumed several times at once by its browser gives one code, which redeems', async () => {
  for (let round = 0; round < ROUNDS; round += 1) {
    const browser = new Browser();
    const { sent, params } = await request();
    const resume = await toResume(browser, await browser.get(oidc.buildAuthorizationUrl(gw.rp, params).href));
    const hops = await Promise.all(Array.from({ length: AT_ONCE }, () => browser.get(resume)));
    const codes = expectOneCode(hops);
    expect(codes).toHaveLength(1);
    for (const hop of hops.filter((h) => !codeOf(h))) expect(hop.body).toContain('The login session was not found');
    await exchangeCode(gw.rp, sent, hops.find(codeOf)!);
  }
});

test('one pushed request_uri used several times at once gives one code at most', async () => {
  for (let round = 0; round < ROUNDS; round += 1) {
    const { sent, params } = await request();
    const url = (await oidc.buildAuthorizationUrlWithPAR(gw.rp, params)).href;
    // each use from a browser of its own (a leaked request_uri), all at once; every login that starts goes on
    const browsers = Array.from({ length: AT_ONCE }, () => new Browser());
    const firsts = await Promise.all(browsers.map((b) => b.get(url)));
    const resumes = await Promise.all(
      firsts.map((first, i) => (first.location?.includes('/interaction/') ? toResume(browsers[i]!, first) : undefined)),
    );
    const hops = await Promise.all(resumes.map((resume, i) => (resume ? browsers[i]!.get(resume) : firsts[i]!)));
    const codes = expectOneCode(hops);
    if (codes.length) await exchangeCode(gw.rp, sent, hops.find(codeOf)!);
  }
});

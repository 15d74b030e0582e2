// A verified answer that can no longer be handed back at its callback (src/login/hand-back.ts): the login
// expired while the user was at the provider, or the session it began in was taken over by another login in
// the same browser meanwhile (the check node-oidc-provider's interactionFinished makes). Either way no code
// reaches the service for it, the user gets a page saying so, and the operator a warning and an audit
// record under the login's reference. And a verified answer is not undone by an earlier provider's failure
// page of the same login returning by itself.
import { expect, test } from '@jest/globals';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { Browser, type Hop } from '../support/browser.ts';
import { atRp, beginLogin, chooseProvider, mockProviderLogin, useGateway } from '../support/gateway.ts';

const store = new MemoryStore();
const gw = useGateway({ store });

/** A login in `browser` through the mock eID as test person `user`, up to the provider's answer (not yet
 * delivered): the answer's hop and the login's uid. */
async function toAnswer(browser: Browser, user: number | 'outage'): Promise<{ answer: Hop; uid: string }> {
  const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid', ui_locales: 'en' }, browser);
  const authorize = await browser.follow(started.hop, (h) => !!h.location?.includes('/providers/mock-eid/authorize'));
  const answer = await mockProviderLogin(browser, authorize, user);
  return { answer, uid: new URL(started.hop.location!).pathname.split('/')[2]! };
}

const refusals = (uid: string) =>
  (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'error' && e.correlationId === uid);

test('an answer arriving after its login expired: a page saying so, no code, an audit record', async () => {
  const browser = new Browser();
  const { answer, uid } = await toAnswer(browser, 0);
  await store.delete(`oidc:Interaction:${uid}`); // its lifetime ran out
  const page = await browser.get(answer.location!);
  expect(page.status).toBe(400);
  expect(page.location).toBeUndefined();
  expect(page.body).toContain('no longer valid');
  // the service's answer needs the expired login's redirect URI and state: its home page is the way back
  expect(page.body).toContain('<a class="button" href="https://rp.example.test/">');
  expect(refusals(uid)).toHaveLength(1);
  expect(refusals(uid)[0]!.detail).toMatchObject({ reason: expect.stringMatching(/expired/) });
});

test('an answer whose session another login in the same browser took over meanwhile: not handed back, no code', async () => {
  const browser = new Browser();
  // a first login leaves a session in this browser
  const first = await toAnswer(browser, 0);
  expect(atRp(await browser.follow(first.answer, atRp))).toBe(true);
  // a second login (one tab) reaches the provider's answer; a third (another tab) completes as another person
  const second = await toAnswer(browser, 0);
  const third = await toAnswer(browser, 1);
  // the engine first ends the session of the other person (its own auto-submitted form), then resumes
  expect(atRp(await browser.follow(third.answer, atRp))).toBe(true);
  expect(browser.history.some((hop) => hop.url.endsWith('/session/end/confirm'))).toBe(true);
  // recorded as the gateway's doing, under the new login, not as a logout the service asked for
  const logouts = (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'logout');
  expect(logouts.at(-1)).toMatchObject({
    correlationId: third.uid,
    detail: { initiator: 'gateway', reason: 'another person logged in' },
  });
  const page = await browser.get(second.answer.location!);
  expect(page.status).toBe(400);
  expect(page.location).toBeUndefined();
  expect(refusals(second.uid)[0]!.detail).toMatchObject({ reason: expect.stringMatching(/session/) });
  // the engine refuses this interaction on every page now (its own check), so no way back is offered
  expect(page.body).not.toContain('/abort');
  expect(page.body).toContain('no longer valid');
});

test("a failed provider's page returning by itself after another provider succeeded does not end the login", async () => {
  const browser = new Browser();
  const failed = await toAnswer(browser, 'outage');
  const page = await browser.get(failed.answer.location!);
  expect(page.status).toBe(400);
  const complete = /href="(\/interaction\/[^"]+\/complete)"/.exec(page.body)?.[1];
  expect(complete).toBeDefined();
  // the user tries again: the same login, the provider now answers
  const selection = await browser.get(`${gw.issuer}/interaction/${failed.uid}?choose=1`);
  const authorize = await chooseProvider(browser, selection.url, 'mock-eid');
  const answer = await mockProviderLogin(browser, authorize, 0);
  const callback = await browser.get(answer.location!);
  expect(callback.location).toBe(`${gw.issuer}/auth/${failed.uid}`);
  // the failure page (still open in another tab) returns by itself: nothing of the failure is left
  const late = await browser.get(new URL(complete!, gw.issuer).toString());
  expect(late.status).toBe(400);
  const resumed = await browser.get(callback.location!);
  expect(new URL(resumed.location!).searchParams.get('code')).toBeTruthy();
});

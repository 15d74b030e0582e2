// Web2App against the test RP API over pinned TLS: the app on the same phone opens the device link (the
// test RP API checks its authCode as the app does), answers, and sends the browser back to the adapter's
// return page, whose userChallengeVerifier and session secret digest are checked before the login ends.
import { TestCa } from './test-rp-api/ca.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { type Harness, startHarness } from './test-harness.ts';
import { walkWeb2App } from './test-user.ts';
import { beginLogin } from './test-logins.ts';

/** A person whose phone answers when the test says (a new-format Latvian code, no check digit). */
const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320016-10001',
  givenName: 'Līga',
  surname: 'Ozola',
  behaviour: 'phone',
};

describe('Smart-ID Web2App (the app on this phone)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ca: await TestCa.create(), accounts: [holder] });
  });
  afterAll(() => h.close());

  async function web2app(answer: 'confirm' | 'refuse', tamper?: (u: URL) => void) {
    const login = await beginLogin(h);
    return login.end(await walkWeb2App(h, login.action, answer, tamper));
  }

  test('confirmed in the app: the device link verified by the app, the return checked, the holder logged in', async () => {
    const { outcome } = await web2app('confirm');
    expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier, givenName: 'Līga' } });
    const session = [...h.rp.api.sessions.values()].at(-1)!;
    expect(session.flowType).toBe('Web2App');
    expect(session.initialCallbackUrl).toMatch(new RegExp(`^${h.origin}/providers/smartid/return\\?h=`));
  });

  test('a return whose userChallengeVerifier is not the signed one is refused', async () => {
    const { outcome } = await web2app('confirm', (u) => u.searchParams.set('userChallengeVerifier', 'A'.repeat(43)));
    expect(outcome).toMatchObject({
      code: 'invalid_response',
      detail: expect.stringContaining('userChallengeVerifier'),
    });
  });

  test('a return without the session secret digest is refused with a page, the login not completed', async () => {
    const { arrival } = await web2app('confirm', (u) => u.searchParams.set('sessionSecretDigest', 'x'));
    expect('page' in arrival && arrival.page.status).toBe(400);
  });

  test('refused in the app: user_cancel after the page saying so', async () => {
    const { outcome, arrival } = await web2app('refuse');
    expect(outcome).toMatchObject({ code: 'user_cancel', userInformed: true });
    expect('callback' in arrival && arrival.endPage).toContain('You refused');
  });
});

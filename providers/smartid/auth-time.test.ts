// A Smart-ID login's auth_time is when a gateway instance learnt that its session completed: another
// instance's clock a little ahead is no reason to refuse it, a time before the login started always is.
import { ProviderError } from '../../src/broker/adapter.ts';
import { INSTANCE_CLOCK_SKEW_SECONDS, sessionEndAuthTime } from './auth-time.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { withHarness } from './test-harness.ts';
import { beginLogin, codeOf } from './test-logins.ts';
import { follow, visit } from './test-user.ts';

const started = Date.UTC(2030, 0, 1, 12, 0, 0, 400);
const now = started + 30_000;
const window = { loginStartedAt: started, authenticatedNotBefore: undefined };
const refusal = (endedAt: number) => {
  try {
    sessionEndAuthTime(endedAt, window, now);
    return undefined;
  } catch (err) {
    return err instanceof ProviderError ? err.message : err;
  }
};

test('a session end a little ahead of this instance (another instance served the poll) is accepted, as now', () => {
  expect(sessionEndAuthTime(now + 300, window, now)).toBe(Math.floor(now / 1000));
  expect(sessionEndAuthTime(now + INSTANCE_CLOCK_SKEW_SECONDS * 1000, window, now)).toBe(Math.floor(now / 1000));
  expect(sessionEndAuthTime(now - 2000, window, now)).toBe(Math.floor((now - 2000) / 1000));
});

test('this instance behind the one that started the login: auth_time is still not before the login started', () => {
  const behind = started - 3000;
  expect(sessionEndAuthTime(started + 1000, window, behind)).toBe(Math.floor(started / 1000));
});

test('further ahead is refused; before the login started (its first second aside) is refused without any allowance', () => {
  expect(refusal(now + INSTANCE_CLOCK_SKEW_SECONDS * 1000 + 1000)).toMatch(
    /^invalid_response: Smart-ID session end is 6 s in the future \(allowed 5 s between gateway instances\)/,
  );
  expect(refusal(started - 400)).toBeUndefined();
  expect(refusal(started - 401)).toMatch(/before this login started \(allowed 0 s\)/);
  expect(refusal(Number.NaN)).toMatch(/is missing/);
});

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320098-10001',
  givenName: 'Anna',
  surname: 'Kalniņa',
  behaviour: 'phone',
};

test('a login whose session end another instance recorded 300 ms ahead logs the person in', async () => {
  await withHarness({ ca: await TestCa.create(), accounts: [holder] }, async (h) => {
    const login = await beginLogin(h);
    await visit(login.action.url);
    const posted = await visit(`${h.origin}${h.adapter.pagesPath}/login`, { h: login.handle, ...codeOf(holder) });
    await h.phone(holder.semanticsIdentifier, 'confirm');
    const ended = await visit(posted.location!); // polls, records the end, sends the browser to the callback
    const stored = (await h.adapter.logins.get(login.handle))!;
    expect(stored.endedAt).toBeDefined();
    await h.adapter.logins.advance(login.handle, stored, { ...stored, endedAt: Date.now() + 300 });
    const { outcome } = await login.end(await follow(h, ended));
    expect(outcome).toMatchObject({ identity: { subject: holder.semanticsIdentifier } });
  });
});

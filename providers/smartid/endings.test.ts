// How the RP API's HTTP answers end a login. A poll answered 404 means SK no longer knows the session
// (unknown, or over 5 minutes old: the reference's GET session/{id}), not that the person has no account,
// which only a session start's 404 says; 480 says the gateway's RP API client is too old for SK, nothing
// the person's app can change.
import { BrokerError } from '../../src/login/broker-error.ts';
import { OAUTH_ERRORS } from '../../src/login/callback.ts';
import { msg } from './messages.ts';
import { told } from './results.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { withHarness } from './test-harness.ts';
import { beginLogin, codeOf } from './test-logins.ts';
import { follow, visit } from './test-user.ts';

const holder: TestAccount = {
  semanticsIdentifier: 'PNOLV-320097-10001',
  givenName: 'Anna',
  surname: 'Kalniņa',
  behaviour: 'phone',
};

test('a session the RP API no longer knows (404 on its poll): the technical page in the login language, temporarily_unavailable', async () => {
  await withHarness({ ca: await TestCa.create(), accounts: [holder] }, async (h) => {
    const login = await beginLogin(h, { locale: 'lv' });
    await visit(login.action.url);
    const waiting = await visit(`${h.origin}${h.adapter.pagesPath}/login`, { h: login.handle, ...codeOf(holder) });
    await h.forget(holder.semanticsIdentifier);
    const arrival = await follow(h, waiting);
    expect('callback' in arrival && arrival.endPage).toContain(msg('lv', 'end_technical'));
    expect('callback' in arrival && arrival.endPage).not.toContain(msg('lv', 'end_no_account'));
    const { outcome } = await login.end(arrival);
    expect(outcome).toBeInstanceOf(BrokerError);
    const err = outcome as BrokerError;
    expect([OAUTH_ERRORS[err.code]!.error, err.userInformed]).toEqual(['temporarily_unavailable', true]);
    expect(err.detail).toContain('the RP API no longer knows the session');
    expect(h.logger.lines.join('\n')).toContain('"ending":"lost"');
  });
});

test('a session start answered 404 is still "no account"', () => {
  expect(told({ type: 'http', status: 404 })).toEqual({ code: 'access_denied', message: 'end_no_account' });
});

test("HTTP 480 (the gateway's RP API client too old): the technical ending, not the app's", () => {
  expect(told({ type: 'http', status: 480 })).toEqual({ code: 'temporarily_unavailable', message: 'end_technical' });
});

// The token request reads the login's account (the identity stored under its grant) once: the claims it
// releases and the tokens_issued entry it audits afterwards share that read. Another request (userinfo)
// reads afresh, and a second login's tokens never carry the first one's account.
import { MemoryStore } from '../../src/store/memory.ts';
import { useGateway, loginThroughMock, exchangeCode, WatchedAuditLog } from '../support/gateway.ts';
import * as oidc from 'openid-client';

class CountingStore extends MemoryStore {
  accountReads = 0;
  override get(key: string): Promise<string | undefined> {
    if (key.startsWith('account:')) this.accountReads += 1;
    return super.get(key);
  }
}

const store = new CountingStore();
const audit = new WatchedAuditLog();
const gw = useGateway({ store, audit });

test('one account read per token request; tokens_issued still names the login and its provider', async () => {
  const login = await loginThroughMock(gw.rp, { scope: 'openid profile personal_code' });
  const before = store.accountReads;
  const tokens = await exchangeCode(gw.rp, login, login.callback!);
  const uid = login.browser.history
    .find((h) => h.url.includes('/interaction/'))!
    .url.split('/interaction/')[1]!
    .split('/')[0]!;
  const issued = await audit.recorded((e) => e.type === 'tokens_issued' && e.correlationId === uid);
  expect(issued).toMatchObject({ providerId: 'mock-eid', clientId: 'rp' });
  expect(store.accountReads - before).toBe(1);
  expect(tokens.claims()).toMatchObject({ given_name: 'Jānis', personal_code: '010180-15097' });

  const atUserinfo = store.accountReads;
  const info = await oidc.fetchUserInfo(gw.rp, tokens.access_token, tokens.claims()!.sub);
  expect(info.personal_code).toBe('010180-15097');
  expect(store.accountReads - atUserinfo).toBe(1);
});

test("a second login's token request gets its own account, not the one read before", async () => {
  const first = await loginThroughMock(gw.rp, { scope: 'openid profile personal_code' }, 0);
  const second = await loginThroughMock(gw.rp, { scope: 'openid profile personal_code' }, 1);
  expect((await exchangeCode(gw.rp, first, first.callback!)).claims()?.given_name).toBe('Jānis');
  expect((await exchangeCode(gw.rp, second, second.callback!)).claims()?.given_name).toBe('Anna');
});

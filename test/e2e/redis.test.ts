// The whole flow with the Redis store behind node-oidc-provider, the broker state and the replay caches.
import * as oidc from 'openid-client';
import type { RedisStore } from '../../src/store/redis.ts';
import { exchangeCode, useGateway, loginThroughMock } from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const prefix = testPrefix();
let store: RedisStore;

const gw = useGateway(({ cleanup }) => {
  store = testRedisStore(prefix, cleanup);
  return { store };
});

test('login, token exchange, code reuse refused and every key has a TTL', async () => {
  const { rp } = gw;
  const login = await loginThroughMock(rp);
  const check = {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  };
  const tokens = await oidc.authorizationCodeGrant(rp, login.callback!, check);
  expect(tokens.claims()).toMatchObject({ sub: 'PNOLV-010180-15097', idp: 'mock-eid' });
  await expect(oidc.authorizationCodeGrant(rp, login.callback!, check)).rejects.toMatchObject({
    error: 'invalid_grant',
  });
  const keys = await store.client.keys(`${prefix}*`);
  expect(keys.some((k) => k.startsWith(`${prefix}oidc:Session:`))).toBe(true);
  for (const key of keys) expect(await store.client.ttl(key)).toBeGreaterThan(0);
  // the broker's login state was taken on the callback
  expect(keys.filter((k) => k.startsWith(`${prefix}login:`))).toEqual([]);
});

test('the identity (names, personal code) is kept only as long as a token of the login can ask for it', async () => {
  const { rp } = gw;
  const login = await loginThroughMock(rp);
  const tokens = await oidc.authorizationCodeGrant(rp, login.callback!, {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
  const { ttl } = gw.config;
  // the resume may come as late as the interaction lives, then the code, then the access token's userinfo
  const lifetime = ttl.interaction + ttl.authorization_code + ttl.access_token;
  expect(lifetime).toBeLessThan(ttl.session);
  const accounts = await store.client.keys(`${prefix}account:*`);
  expect(accounts.length).toBeGreaterThan(0);
  for (const key of accounts) {
    const left = await store.client.ttl(key);
    expect(left).toBeGreaterThan(lifetime - 10);
    expect(left).toBeLessThanOrEqual(lifetime);
  }
  // nothing else holds the personal code longer, the engine's session and grant included (their accountId is
  // the subject, PNOLV-<code>)
  const holding: string[] = [];
  for (const key of await store.client.keys(`${prefix}*`)) {
    const value = (await store.client.type(key)) === 'string' ? await store.client.get(key) : '';
    if (!`${key} ${value}`.includes('010180-15097')) continue;
    const name = key.slice(prefix.length).split(':');
    holding.push(name.slice(0, name[0] === 'oidc' ? 2 : 1).join(':'));
    expect(await store.client.ttl(key)).toBeLessThanOrEqual(lifetime);
  }
  expect(holding).toEqual(expect.arrayContaining(['account', 'oidc:Session', 'oidc:Grant']));
  // within that lifetime userinfo still releases the identity
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
  expect(info).toMatchObject({ personal_code: '010180-15097' });
});

/** Logs in, exchanges the code, and checks the identity is there: the grant and its tokens. */
async function releasedLogin() {
  const login = await loginThroughMock(gw.rp);
  const tokens = await exchangeCode(gw.rp, login, login.callback!);
  const grantId = (
    JSON.parse((await store.client.get(`${prefix}oidc:AccessToken:${tokens.access_token}`))!) as {
      grantId: string;
    }
  ).grantId;
  expect(await store.client.exists(`${prefix}account:${grantId}`)).toBe(1);
  return { login, tokens, grantId };
}

/** Once no token of the login can ask for it, the identity (names, personal code, birth date) is gone. */
async function expectIdentityGone(tokens: oidc.TokenEndpointResponse, grantId: string) {
  await expect(oidc.fetchUserInfo(gw.rp, tokens.access_token, oidc.skipSubjectCheck)).rejects.toMatchObject({
    status: 401,
  });
  expect(await store.client.exists(`${prefix}account:${grantId}`)).toBe(0);
  // what is left of the grant (its dead access token, the session) names nobody: the subject at most
  for (const key of await store.client.keys(`${prefix}*`)) {
    const value = (await store.client.type(key)) === 'string' ? ((await store.client.get(key)) ?? '') : '';
    if (`${key} ${value}`.includes(grantId))
      expect([key, value]).not.toEqual([key, expect.stringMatching(/Bērziņš|1980-01-01|givenName/i)]);
  }
}

test('a logout the service asks for deletes the identity at once', async () => {
  const { login, tokens, grantId } = await releasedLogin();
  const ask = await login.browser.post(`${gw.issuer}/session/end`, {
    id_token_hint: tokens.id_token!,
    post_logout_redirect_uri: 'https://rp.example.test/bye',
  });
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)![1]!;
  const done = await login.browser.follow(
    await login.browser.post(`${gw.issuer}/session/end/confirm`, { xsrf, logout: 'yes' }),
    (hop) => !!hop.location?.startsWith('https://rp.example.test/'),
  );
  expect(done.location).toMatch(/^https:\/\/rp\.example\.test\/bye/);
  await expectIdentityGone(tokens, grantId);
});

test('a reused code revokes the grant, and the identity goes with it', async () => {
  const { login, tokens, grantId } = await releasedLogin();
  await expect(exchangeCode(gw.rp, login, login.callback!)).rejects.toMatchObject({ error: 'invalid_grant' });
  await expectIdentityGone(tokens, grantId);
});

test('an access token the service revokes takes the identity with it', async () => {
  const { tokens, grantId } = await releasedLogin();
  await oidc.tokenRevocation(gw.rp, tokens.access_token);
  await expectIdentityGone(tokens, grantId);
});

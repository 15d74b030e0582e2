// Once a code's tokens are out, its record goes and its "issued" marker answers for it
// (src/oidc/code-redemption.ts): what Redis keeps of a spent code shrinks from the code and its marker to the
// marker alone. A reuse must still be found and refused as before, and revoke the grant when the engine
// would have: the same client, the right PKCE verifier and redirect_uri (RFC 6749 4.1.2, 10.5; the session
// binding aside, see src/oidc/code-redemption.ts). On the real Redis, through the whole flow.
import * as oidc from 'openid-client';
import type { RedisStore } from '../../src/store/redis.ts';
import { exchangeCode, loginThroughMock, RP_REDIRECT, RP_SECRET, useGateway } from '../support/gateway.ts';
import { testPrefix, testRedisStore } from '../support/redis-store.ts';

const OTHER_SECRET = 'rp-other-secret-0123456789-0123456789';
const prefix = testPrefix();
let store: RedisStore;

const gw = useGateway(({ cleanup }) => {
  store = testRedisStore(prefix, cleanup);
  return {
    store,
    clients: [
      {
        client_id: 'rp-other',
        client_secret: OTHER_SECRET,
        token_endpoint_auth_method: 'client_secret_post',
        redirect_uris: [RP_REDIRECT],
      },
    ],
  };
});

async function tokenRequest(form: Record<string, string>, basic?: string) {
  const res = await fetch(`${gw.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}),
    },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** A login whose code was exchanged: the code, its verifier and the tokens. */
async function spentLogin() {
  const login = await loginThroughMock(gw.rp);
  const tokens = await exchangeCode(gw.rp, login, login.callback!);
  const code = login.callback!.searchParams.get('code')!;
  const form = { grant_type: 'authorization_code', code, code_verifier: login.verifier, redirect_uri: RP_REDIRECT };
  return { code, form, tokens };
}

/** The spent code's record and marker in Redis, once the record's delete (not waited for) has been made. */
async function keysOf(code: string) {
  const record = `${prefix}oidc:AuthorizationCode:${code}`;
  for (let i = 0; i < 100 && (await store.client.exists(record)); i += 1) await new Promise((r) => setTimeout(r, 20));
  const marker = `${prefix}oidc:consumed:AuthorizationCode:${code}`;
  return {
    record: await store.client.get(record),
    marker: await store.client.get(marker),
    markerTtl: await store.client.ttl(marker),
  };
}

const stillValid = (tokens: oidc.TokenEndpointResponse) =>
  oidc.fetchUserInfo(gw.rp, tokens.access_token, oidc.skipSubjectCheck);

test('a spent code leaves only its marker, which expires with the code, and holds no personal data', async () => {
  const { code } = await spentLogin();
  const left = await keysOf(code);
  expect(left.record).toBeNull();
  expect(left.marker).toMatch(/^issued:\d+ \[/);
  expect(left.markerTtl).toBeGreaterThan(0);
  expect(left.markerTtl).toBeLessThanOrEqual(gw.config.ttl.authorization_code);
  // the marker keeps what the engine checks, not who logged in (the code's record had the account id)
  expect(left.marker).not.toContain('010180');
  expect(left.marker).not.toContain('nonce');
});

test('reuse by its client, with its verifier: invalid_grant, and the tokens of the first use are revoked', async () => {
  const { form, tokens } = await spentLogin();
  expect(await stillValid(tokens)).toMatchObject({ sub: 'PNOLV-010180-15097' });
  expect(await tokenRequest(form, `rp:${RP_SECRET}`)).toMatchObject({
    status: 400,
    body: { error: 'invalid_grant', error_description: 'grant request is invalid' },
  });
  await expect(stillValid(tokens)).rejects.toMatchObject({ status: 401 });
});

test('reuse with a wrong verifier, a wrong redirect_uri or by another client: invalid_grant, nothing revoked', async () => {
  const { form, tokens } = await spentLogin();
  const wrongVerifier = { ...form, code_verifier: 'x'.repeat(43) };
  expect(await tokenRequest(wrongVerifier, `rp:${RP_SECRET}`)).toMatchObject({ status: 400 });
  const wrongRedirect = { ...form, redirect_uri: 'https://rp.example.test/other' };
  expect(await tokenRequest(wrongRedirect, `rp:${RP_SECRET}`)).toMatchObject({ status: 400 });
  const otherClient = { ...form, client_id: 'rp-other', client_secret: OTHER_SECRET };
  expect(await tokenRequest(otherClient)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  // none of these proved to be the code's client with its verifier: the login's tokens stay
  expect(await stillValid(tokens)).toMatchObject({ sub: 'PNOLV-010180-15097' });
  // the code's own client, rightly: a reuse, and the grant goes
  expect(await tokenRequest(form, `rp:${RP_SECRET}`)).toMatchObject({ status: 400 });
  await expect(stillValid(tokens)).rejects.toMatchObject({ status: 401 });
});

test('a marker written without the spent code (outside a token request, an earlier version): the code is still refused', async () => {
  const login = await loginThroughMock(gw.rp);
  const code = login.callback!.searchParams.get('code')!;
  // as an earlier version left a spent code: its record kept, the marker "issued:<time>" alone
  await store.client.set(
    `${prefix}oidc:consumed:AuthorizationCode:${code}`,
    `issued:${Math.floor(Date.now() / 1000)}`,
    'EX',
    60,
  );
  await expect(exchangeCode(gw.rp, login, login.callback!)).rejects.toMatchObject({ error: 'invalid_grant' });
  // and once the record is gone too, such a marker finds no code
  await store.client.del(`${prefix}oidc:AuthorizationCode:${code}`);
  const form = { grant_type: 'authorization_code', code, code_verifier: login.verifier, redirect_uri: RP_REDIRECT };
  expect(await tokenRequest(form, `rp:${RP_SECRET}`)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
});

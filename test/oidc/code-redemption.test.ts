// A token request cut off by the store after the engine consumed its code (what a Redis failover does
// between the two writes) must not lose the login: the answer is a 503 to try again, and trying again
// succeeds once the cut-off request's lease on the code has run out. Tokens are released only when the code
// is marked issued, once at most; reuse after that is still refused and revokes. The store is the real
// memory store on a clock the test moves, with one write failing the way an unreachable Redis does.
import * as oidc from 'openid-client';
import { REDEMPTION_LEASE_SECONDS } from '../../src/oidc/code-redemption.ts';
import { CutOffStore } from '../support/cut-off-store.ts';
import {
  exchangeCode,
  loginThroughMock,
  RP_REDIRECT,
  RP_SECRET,
  rpConfig,
  startGateway,
  type TestGateway,
  WatchedAuditLog,
} from '../support/gateway.ts';

const store = new CutOffStore();
const audit = new WatchedAuditLog();
let gw: TestGateway;
let rp: oidc.Configuration;

beforeAll(async () => {
  gw = await startGateway({ store, audit });
  rp = await rpConfig(gw.issuer);
});
afterAll(async () => {
  await gw.close();
});

async function tokenRequest(login: Awaited<ReturnType<typeof loginThroughMock>>) {
  const res = await fetch(`${gw.issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`rp:${RP_SECRET}`).toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: login.callback!.searchParams.get('code')!,
      code_verifier: login.verifier,
      redirect_uri: RP_REDIRECT,
    }),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Record<string, string>,
  };
}

const outage = { status: 503, retryAfter: '5', body: { error: 'temporarily_unavailable' } };

test('the access token write fails after the code was consumed: 503, and the code is redeemed later', async () => {
  const login = await loginThroughMock(rp);
  store.failing = (op, key) => op === 'set' && key.startsWith('oidc:AccessToken:');
  expect(await tokenRequest(login)).toMatchObject(outage);
  // at once: the cut-off request still holds its lease on the code, so try again later, not invalid_grant
  const early = await tokenRequest(login);
  expect(early).toMatchObject(outage);
  expect(early.body.access_token).toBeUndefined();
  store.skew += (REDEMPTION_LEASE_SECONDS + 1) * 1000;
  const tokens = await exchangeCode(rp, login, login.callback!);
  expect(tokens.claims()).toMatchObject({ idp: 'mock-eid' });
  const info = await oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub);
  expect(info.sub).toBe(tokens.claims()!.sub);
  // spent now: a reuse is refused and takes the tokens with it
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  await expect(oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject({
    status: 401,
  });
});

test('marking the code issued fails: the tokens are withheld (503), recorded, and the code is redeemed later', async () => {
  const login = await loginThroughMock(rp);
  store.failing = (op, _key, value) => op === 'compareAndSet' && !!value?.startsWith('issued:');
  const cut = await tokenRequest(login);
  expect(cut).toMatchObject(outage);
  expect(cut.body.access_token).toBeUndefined();
  expect(cut.body.id_token).toBeUndefined();
  const withheld = await audit.recorded(
    (e) => e.type === 'tokens_issued_error' && String(e.detail?.error).includes('Connection is closed'),
  );
  expect(withheld).toMatchObject({ clientId: 'rp' });
  store.skew += (REDEMPTION_LEASE_SECONDS + 1) * 1000;
  expect((await exchangeCode(rp, login, login.callback!)).claims()).toMatchObject({ idp: 'mock-eid' });
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
});

test('a redemption started again while the first holds its lease: neither gets tokens, the grant is revoked', async () => {
  const login = await loginThroughMock(rp);
  // the first request stalls between consuming the code and its access token, as a slow primary would
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  let reached!: () => void;
  const atWrite = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const set = store.set.bind(store);
  store.set = async (key, value, ttl) => {
    if (key.startsWith('oidc:AccessToken:')) {
      store.set = set;
      reached();
      await stalled;
    }
    return set(key, value, ttl);
  };
  const first = tokenRequest(login);
  await atWrite;
  expect(await tokenRequest(login)).toMatchObject(outage);
  release();
  expect(await first).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
});

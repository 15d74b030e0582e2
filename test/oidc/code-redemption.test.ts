// A token request cut off by the store after the engine consumed its code (what a Redis failover does between
// the two writes) must not lose the login: the answer is a 503 to try again, and trying again succeeds once
// the cut-off request's lease on the code has been withdrawn or has run out. Tokens are released only once
// the code is marked as going out ("issuing"), once at most; reuse after that is still refused and revokes. A
// write whose answer the outage lost, though carried out, is withdrawn by its request once the store is back,
// so trying again succeeds then and is never refused as a reuse. A spent code's record goes once its marker
// answers for it: reads of the two served in either order (Redis Cluster) still find a reuse. The store is
// the real memory store on a clock the test moves or stops, with writes failing the way an unreachable Redis
// does.
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

afterEach(() => {
  store.restore();
  store.stopped = undefined;
});

/** The code's marker (src/oidc/code-redemption.ts) in the store. */
const markerOf = (login: Awaited<ReturnType<typeof loginThroughMock>>) =>
  `oidc:consumed:AuthorizationCode:${login.callback!.searchParams.get('code')}`;

/** Poll until `check` holds (a bounded number of looks, each after the event loop had a turn). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting: ${what}`);
}

test('the access token write fails after the code was consumed, the store away: 503, and the code is redeemed once it is back', async () => {
  const login = await loginThroughMock(rp);
  const marker = markerOf(login);
  // nothing expires: only the refused request's withdrawal can take its lease away
  store.stopped = Date.now() + store.skew;
  store.lasting = true;
  store.failing = (op, key) => op === 'set' && key.startsWith('oidc:AccessToken:');
  expect(await tokenRequest(login)).toMatchObject(outage);
  expect(await store.peek(marker)).toMatch(/^pending:/);
  // the store answers again, but for the withdrawal: the client's retry meets the lease (and contests it), so
  // it may try again, never invalid_grant; the contest is the retry, not a reuse, and revokes nothing
  store.restore();
  store.away = (op) => op === 'compareAndDelete';
  const early = await tokenRequest(login);
  expect(early).toMatchObject(outage);
  expect(early.body.access_token).toBeUndefined();
  expect(await store.peek(marker)).toMatch(/^contested:/);
  store.restore();
  await until(async () => (await store.peek(marker)) === undefined, 'the lease withdrawn');
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
  store.failing = (op, _key, value) => op === 'compareAndSet' && !!value?.startsWith('issuing:');
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

/** The first store operation `at` picks stalls just before it is carried out (a slow primary, a slow node):
 * `reached` once it is there, and it goes on at `release()`. */
function stallFirst(at: (op: string, key: string) => boolean): { reached: Promise<void>; release: () => void } {
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrive!: () => void;
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  let once = false;
  const delay = store.delay;
  store.delay = (op, key) => {
    if (!at(op, key) || once) return delay?.(op, key);
    once = true;
    arrive();
    return stalled;
  };
  return { reached, release };
}

/** The first token request to write an access token stalls just before it. */
const stallAtAccessToken = () => stallFirst((op, key) => op === 'set' && key.startsWith('oidc:AccessToken:'));

test('a redemption started again while the first holds its lease: neither gets tokens, the grant is revoked', async () => {
  const login = await loginThroughMock(rp);
  // the first request stalls between consuming the code and its access token
  const stall = stallAtAccessToken();
  const first = tokenRequest(login);
  await stall.reached;
  expect(await tokenRequest(login)).toMatchObject(outage);
  stall.release();
  expect(await first).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
});

test('a second redemption that found the code unspent and reaches for it once the first released its tokens: a reuse, refused, the first one’s tokens revoked', async () => {
  const login = await loginThroughMock(rp);
  const marker = markerOf(login);
  // the second request (sent first) has read the code unspent; its lease waits, as on a slow node
  const stall = stallFirst((op, key) => op === 'setIfAbsent' && key === marker);
  const second = tokenRequest(login);
  await stall.reached;
  const first = await tokenRequest(login);
  expect(first.status).toBe(200);
  expect(await store.peek(marker)).toMatch(/^issued:/);
  stall.release();
  expect(await second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  await expect(oidc.fetchUserInfo(rp, first.body.access_token!, oidc.skipSubjectCheck)).rejects.toMatchObject({
    status: 401,
  });
});

test('a second redemption whose reads are served out of order (Redis Cluster): refused, the first one’s tokens revoked', async () => {
  // On Cluster a code's record and its marker lie in different hash slots, so the two reads go to two nodes
  // and may be served in either order: here the second request's marker read while the first holds its
  // lease ("pending:"), its record read once the first has released its tokens and deleted the record
  const login = await loginThroughMock(rp);
  const record = `oidc:AuthorizationCode:${login.callback!.searchParams.get('code')}`;
  let recordGone!: () => void;
  const gone = new Promise<void>((resolve) => {
    recordGone = resolve;
  });
  let armed = false;
  let held = false;
  store.delay = (op, key) => {
    if (key !== record) return undefined;
    if (op === 'delete') setImmediate(recordGone);
    if (op !== 'get' || !armed || held) return undefined;
    held = true;
    return gone;
  };
  const stall = stallAtAccessToken();
  const first = tokenRequest(login);
  await stall.reached;
  expect(await store.peek(markerOf(login))).toMatch(/^pending:/);
  armed = true;
  const second = tokenRequest(login);
  await until(async () => held, "the second request's record read held");
  stall.release();
  const [a, b] = [await first, await second];
  expect(a.status).toBe(200);
  expect(b).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  await expect(oidc.fetchUserInfo(rp, a.body.access_token!, oidc.skipSubjectCheck)).rejects.toMatchObject({
    status: 401,
  });
});

test('the mark that lets the tokens out is made but its answer lost, the store away: withheld, never a reuse, redeemed once withdrawn', async () => {
  const login = await loginThroughMock(rp);
  const marker = markerOf(login);
  // the primary ran the compare-and-set and died before answering; the store stays away
  store.replyLost = true;
  store.lasting = true;
  store.failing = (op, _key, value) => op === 'compareAndSet' && !!value?.startsWith('issuing:');
  const cut = await tokenRequest(login);
  expect(cut).toMatchObject(outage);
  expect(cut.body.access_token).toBeUndefined();
  expect(await store.peek(marker)).toMatch(/^issuing:/);
  // the store answers again, but for the withdrawal: the client's retry meets the mark and may try again
  store.restore();
  store.away = (op) => op === 'compareAndDelete';
  const meanwhile = await tokenRequest(login);
  expect(meanwhile).toMatchObject(outage);
  expect(meanwhile.body.access_token).toBeUndefined();
  expect(await store.peek(marker)).toMatch(/^issuing:/);
  store.restore();
  await until(async () => (await store.peek(marker)) === undefined, 'the mark withdrawn');
  const tokens = await exchangeCode(rp, login, login.callback!);
  expect(tokens.claims()).toMatchObject({ idp: 'mock-eid' });
  expect(await store.peek(marker)).toMatch(/^issued:/);
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  await expect(oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject({
    status: 401,
  });
});

test('the lease is taken but its answer lost: withdrawn once the store is back, so the retry need not wait it out', async () => {
  const login = await loginThroughMock(rp);
  const marker = markerOf(login);
  // nothing expires: only the withdrawal can take the lease away
  store.stopped = Date.now() + store.skew;
  store.replyLost = true;
  store.lasting = true;
  store.failing = (op, _key, value) => op === 'setIfAbsent' && !!value?.startsWith('pending:');
  expect(await tokenRequest(login)).toMatchObject(outage);
  expect(await store.peek(marker)).toMatch(/^pending:/);
  store.restore();
  await until(async () => (await store.peek(marker)) === undefined, 'the lease withdrawn');
  expect((await exchangeCode(rp, login, login.callback!)).claims()).toMatchObject({ idp: 'mock-eid' });
});

test('marking the code issued loses its answer after the tokens may go out: they go out, and a reuse is refused once the mark is made', async () => {
  const login = await loginThroughMock(rp);
  const marker = markerOf(login);
  store.failing = (op, _key, value) => op === 'compareAndSet' && !!value?.startsWith('issued:');
  const tokens = await exchangeCode(rp, login, login.callback!);
  expect(tokens.claims()).toMatchObject({ idp: 'mock-eid' });
  await until(async () => (await store.peek(marker))?.startsWith('issued:') === true, 'the code marked issued');
  expect(await tokenRequest(login)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  await expect(oidc.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).rejects.toMatchObject({
    status: 401,
  });
});

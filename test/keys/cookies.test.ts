// Cookie key rotation: a login whose cookies were signed before the rotation still completes after the
// new key signs; new cookies are signed with the new key; a signature no key of the set made is refused
// (so the first result means something).
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import type * as oidc from 'openid-client';
import {
  atRp,
  beginLogin,
  chooseProvider,
  exchangeCode,
  mockProviderLogin,
  rpConfig,
  type StartedLogin,
} from '../support/gateway.ts';
import type { Hop } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { setClock, startCluster, type Cluster } from './cluster.ts';

let cluster: Cluster;
let rp: oidc.Configuration;
let t0: number;

/** The signed cookies a response sets, with their Keygrip signatures (`<name>.sig`). */
function signedCookies(hop: Hop): { data: string; sig: string }[] {
  const pairs = new Map(
    hop.headers.getSetCookie().map((line) => {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
    }),
  );
  return [...pairs]
    .filter(([name, value]) => !name.endsWith('.sig') && value && pairs.has(`${name}.sig`))
    .map(([name, value]) => ({ data: `${name}=${value}`, sig: pairs.get(`${name}.sig`)! }));
}

/** Keygrip's default signature (HMAC-SHA1, url-safe base64 without padding), as the engine's cookies library writes it. */
const keygripSign = (data: string, secret: string) => createHmac('sha1', secret).update(data).digest('base64url');

const cookieSecret = (id: string) => readFileSync(join(cluster.dir, 'keys', `cookie-${id}.secret`), 'utf8').trim();

/** Starts a login at instance `at` up to the provider selection page (the interaction cookies are set). */
async function startLogin(at: number): Promise<{ login: StartedLogin; page: Hop }> {
  cluster.pin = at;
  const login = await beginLogin(rp);
  const page = await login.browser.follow(login.hop, (h) => h.status === 200 || atRp(h));
  expect(page.status).toBe(200);
  return { login, page };
}

/** Chooses the mock provider at instance `at`; true when the choice was accepted (a redirect to the provider). */
async function choose(started: { login: StartedLogin; page: Hop }, at: number): Promise<Hop> {
  cluster.pin = at;
  return chooseProvider(started.login.browser, started.page.url, 'mock-eid');
}

beforeAll(async () => {
  t0 = Date.now();
  setClock(t0);
  cluster = await startCluster();
  await cluster.start();
  await cluster.start();
  rp = await rpConfig(cluster.issuer);
});

afterAll(async () => {
  await cluster?.close();
  jest.useRealTimers();
});

test('a login started before a cookie key rotation completes after the new key signs', async () => {
  const before = await startLogin(0);
  const [oldId] = JSON.parse((await runCli(['keys', 'status', '--json', '--config', cluster.configFile])).stdout)
    .keys.filter((k: { kind: string }) => k.kind === 'cookie')
    .map((k: { id: string }) => k.id);
  const oldSecret = cookieSecret(oldId);
  for (const cookie of signedCookies(before.login.hop)) expect(cookie.sig).toBe(keygripSign(cookie.data, oldSecret));

  const rotated = await runCli(['keys', 'rotate', '--cookie', '--config', cluster.configFile, '--json']);
  expect(rotated.code).toBe(0);
  const { added } = JSON.parse(rotated.stdout) as { added: { kind: string; id: string }[] };
  expect(added.map((k) => k.kind)).toEqual(['cookie']);
  const newSecret = cookieSecret(added[0]!.id);
  for (const instance of cluster.instances) await instance.gateway.keys.refresh();
  setClock(t0 + 121_000);
  for (const instance of cluster.instances) await instance.gateway.keys.refresh();

  // new cookies are signed with the new key
  const after = await startLogin(1);
  const fresh = signedCookies(after.login.hop);
  expect(fresh.length).toBeGreaterThan(0);
  for (const cookie of fresh) {
    expect(cookie.sig).toBe(keygripSign(cookie.data, newSecret));
    expect(cookie.sig).not.toBe(keygripSign(cookie.data, oldSecret));
  }

  // the login whose cookies the old key signed goes on, through to the service
  const authorize = await choose(before, 0);
  expect(authorize.location).toContain('/providers/mock-eid/authorize');
  const back = await mockProviderLogin(before.login.browser, authorize, 0);
  const final = await before.login.browser.follow(back, atRp);
  const tokens = await exchangeCode(rp, before.login, final);
  expect(tokens.id_token).toBeTruthy();
  cluster.pin = undefined;
});

test('a cookie whose signature no key of the set made is refused (the check the test above relies on)', async () => {
  const started = await startLogin(0);
  const cookies = started.login.hop.headers.getSetCookie().map((line) => line.split(';', 1)[0]!);
  // the same cookies with each signature altered, as a client holding no cookie key could make them
  const forged = cookies.map((pair) => (pair.split('=', 1)[0]!.endsWith('.sig') ? `${pair.slice(0, -2)}AA` : pair));
  const url = new URL(started.page.url);
  const send = (cookie: string[]) =>
    fetch(`${cluster.issuer}${url.pathname}/provider`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie.join('; ') },
      body: new URLSearchParams({ provider: 'mock-eid' }),
      redirect: 'manual',
    });
  const refused = await send(forged);
  expect(refused.headers.get('location') ?? '').not.toContain('/providers/mock-eid/authorize');
  expect(refused.status).toBeGreaterThanOrEqual(400);
  const accepted = await send(cookies);
  expect(accepted.headers.get('location')).toContain('/providers/mock-eid/authorize');
  cluster.pin = undefined;
});

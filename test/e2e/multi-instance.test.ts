// Three real gateway processes (`node src/cli/main.ts start`), one Redis (own prefix), one keys directory
// and cookie keys, each instance its own audit log, behind a load balancer that sends every request to the
// next instance: logins through the mock eID and a test bank (outside the gateway, as a real bank is)
// hop between instances at every step and complete. One instance is killed (SIGKILL) with a token request
// in flight and codes outstanding: each code is then redeemed or cleanly refused, none lost. A second
// writer on an instance's audit log is refused; the logs verify; logs and metrics hold no personal code.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type * as oidc from 'openid-client';
import type { RunningTestBank } from '../../providers/banklink/test-bank/bank.ts';
import { exchangeCode, rpConfig } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';
import { finishAtProvider, instanceConfig, login, PERSONAL_CODE, testBank, toProvider } from '../ops/deployment.ts';
import { GatewayProcess, RoundRobinProxy } from '../ops/processes.ts';
import { freePort } from '../support/free-port.ts';

const NAMES = ['a', 'b', 'c'];
const prefix = `vpmtest:multi:${randomBytes(6).toString('hex')}:`;
let dir: string;
let bank: RunningTestBank;
let proxy: RoundRobinProxy;
let issuer: string;
let configs: string[];
let instances: GatewayProcess[] = [];
let rp: oidc.Configuration;
/** token responses the service got, by code: every code it was given must end up here or be refused */
const redeemed = new Map<string, oidc.TokenEndpointResponse>();

const start = (config: string) => new GatewayProcess(['start', '--config', config, '--workers', '1'], { cwd: dir });

async function redeem(sent: Awaited<ReturnType<typeof login>>) {
  const tokens = await exchangeCode(rp, sent, sent.callback);
  redeemed.set(sent.callback.searchParams.get('code')!, tokens);
  expect(tokens.claims()).toMatchObject({ sub: `PNOLV-${PERSONAL_CODE}` });
  return tokens;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-multi-'));
  const peer = await testBank(dir);
  bank = peer.bank;
  const entry = peer.entry;
  const ports = await Promise.all(NAMES.map(() => freePort()));
  proxy = new RoundRobinProxy(ports);
  issuer = await proxy.listen();
  configs = NAMES.map((name, i) =>
    instanceConfig(join(dir, `gateway-${name}.yaml`), {
      dir,
      issuer,
      port: ports[i]!,
      redisUrl: process.env.VPM_TEST_REDIS_URL!,
      prefix,
      bank: entry,
      audit: { dir: join(dir, `audit-${name}`), name },
    }),
  );
  // the first instance generates the shared keys; the others start together once they exist
  instances = [start(configs[0]!)];
  await instances[0]!.port();
  instances.push(start(configs[1]!), start(configs[2]!));
  await Promise.all(instances.map((instance) => instance.port()));
  rp = await rpConfig(issuer);
}, 180_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
  await proxy?.close();
  await bank?.close();
  const redis = new Redis(process.env.VPM_TEST_REDIS_URL!);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('logins through the mock eID and the test bank complete with each request on the next instance', async () => {
  const before = proxy.forwarded.length;
  for (const kind of ['mock', 'bank', 'mock', 'bank'] as const) await redeem(await login(rp, kind));
  const served = proxy.forwarded.slice(before);
  // every instance served steps of these logins, and none answered with a server error
  expect(new Set(served.map((f) => f.instance))).toEqual(new Set([0, 1, 2]));
  expect(served.filter((f) => f.status >= 500)).toEqual([]);
  // the provider's answer and the code redemption reached other instances than the authorization request
  const steps = (path: string) => new Set(served.filter((f) => f.path.startsWith(path)).map((f) => f.instance));
  expect(steps('/broker/callback/').size).toBeGreaterThan(1);
  expect(steps('/token').size).toBeGreaterThan(1);
}, 120_000);

test('an instance killed mid-run: a login past the token endpoint is redeemed or cleanly refused, none lost', async () => {
  // codes in the service's hands, logins waiting at the provider, when instance b dies
  const withCodes = [];
  for (const kind of ['mock', 'bank', 'mock', 'bank'] as const) withCodes.push(await login(rp, kind));
  const waiting = [await toProvider(rp, 'mock'), await toProvider(rp, 'bank')];

  // a token request is on its way to b (headers and half the body sent) when b is killed
  const inFlight = proxy.holdNext((path) => path === '/token', 1);
  const lost = exchangeCode(rp, withCodes[0]!, withCodes[0]!.callback).then(
    () => 'answered',
    (err: Error) => err.message,
  );
  await inFlight;
  instances[1]!.child.kill('SIGKILL');
  expect(await instances[1]!.exit).toEqual({ code: null, signal: 'SIGKILL' });
  // the balancer answers 502 for the request it lost; b never read it, so the code is still good
  expect(await lost).not.toBe('answered');
  const afterKill = proxy.forwarded.length;
  for (const sent of withCodes) await redeem(sent);
  // a code already redeemed is refused as the protocol says, by whichever instance gets it
  await expect(exchangeCode(rp, withCodes[1]!, withCodes[1]!.callback)).rejects.toMatchObject({
    error: 'invalid_grant',
  });
  // logins that were at the provider, and new ones, finish on the instances left
  for (const at of waiting) await redeem({ ...at.login, callback: await finishAtProvider(at) });
  for (const kind of ['mock', 'bank'] as const) await redeem(await login(rp, kind));

  const served = proxy.forwarded.slice(afterKill);
  expect(new Set(served.map((f) => f.instance))).toEqual(new Set([0, 2]));
  expect(served.filter((f) => f.status >= 500)).toEqual([]);
  // every code the service was given in this test was redeemed once
  for (const sent of withCodes) expect(redeemed.has(sent.callback.searchParams.get('code')!)).toBe(true);
}, 180_000);

test('a second writer on an instance audit log is refused: exit 1 naming the log and its writer', async () => {
  const second = new GatewayProcess(['start', '--config', configs[0]!, '--workers', '1'], {
    cwd: dir,
    env: { PORT: String(await freePort()) },
  });
  const { code } = await second.exit;
  expect(code).toBe(1);
  expect(second.output).toContain(
    `audit log ${join(dir, 'audit-a')} is being written by another writer (pid ${instances[0]!.child.pid}`,
  );
  expect(second.output).not.toMatch(/listening on port/);
  // the instance holding it serves on
  expect((await fetch(`${issuer}/readyz`)).status).toBe(200);
}, 60_000);

test('each instance wrote its own log; together they verify and hold every redemption', async () => {
  const dirs = NAMES.map((name) => join(dir, `audit-${name}`));
  // each live instance's scrape counts its logins and holds no personal code
  for (const i of [0, 2]) {
    const port = (await instances[i]!.printed(/metrics on 127\.0\.0\.1:(\d+)\/metrics/))[1];
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^vpm_logins_completed_total\{provider="(mock-eid|testbank)",client="rp"\} [1-9]/m);
    expect(text).toMatch(
      /^vpm_upstream_duration_seconds_count\{provider="testbank",step="callback",outcome="ok"\} [1-9]/m,
    );
    expect(text).toMatch(/^vpm_audit_batch_size_count [1-9]/m);
    for (const spelling of [PERSONAL_CODE, PERSONAL_CODE.replace('-', '')]) expect(text).not.toContain(spelling);
  }
  // stop the two live instances gracefully: their logs are flushed and checkpointed
  for (const i of [0, 2]) expect(await instances[i]!.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  const verify = await runCli(['audit', 'verify', ...dirs]);
  expect(verify.stdout + verify.stderr).toContain('all 3 logs verify');
  expect(verify.code).toBe(0);
  const query = await runCli(['audit', 'query', ...dirs, '--event', 'tokens_issued', '--json']);
  const entries = (JSON.parse(query.stdout) as { entries: { log: string; detail: { grant_type?: string } }[] }).entries;
  const codes = entries.filter((e) => e.detail.grant_type === 'authorization_code');
  expect(codes).toHaveLength(redeemed.size);
  expect(new Set(codes.map((e) => e.log))).toEqual(new Set(NAMES.map((name) => `audit-${name}`)));
}, 60_000);

test('no personal code in any instance log', () => {
  const logs = instances.map((instance) => instance.output).join('\n');
  expect(logs).toContain('"msg":"gateway started"');
  for (const spelling of [PERSONAL_CODE, PERSONAL_CODE.replace('-', '')]) expect(logs).not.toContain(spelling);
});

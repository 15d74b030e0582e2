// `start --workers 2` on Redis as a real process: the primary's workers share the port and serve logins
// (mock eID and a test bank), each writing its own audit log under audit.dir; the primary's scrape sums
// both workers' counters; a worker killed with SIGKILL is started again (its log's stale lock taken over)
// and serves; SIGTERM to the primary lets a bank answer in flight complete, and every worker drains; a
// primary killed takes its workers with it, and the next start takes their logs over.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type * as oidc from 'openid-client';
import type { RunningTestBank } from '../../providers/banklink/test-bank/bank.ts';
import { Browser, parseAutoPost } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { exchangeCode, rpConfig } from '../support/gateway.ts';
import {
  bankAnswerPage,
  finishAtProvider,
  instanceConfig,
  type Kind,
  PERSONAL_CODE,
  testBank,
  toProvider,
} from './deployment.ts';
import { GatewayProcess } from './processes.ts';
import { freePort } from '../support/free-port.ts';

const prefix = `vpmtest:workers:${randomBytes(6).toString('hex')}:`;
let dir: string;
let bank: RunningTestBank;
let gateway: GatewayProcess;
let issuer: string;
let scrapeUrl: string;
let rp: oidc.Configuration;
let client = 1;
/** each login from another client address, so on connections of its own, which the primary deals out in turn */
function browser(): Browser {
  client += 1;
  return new Browser({ localAddress: `127.0.0.${client}` });
}

/** `n` logins, mock eID and bank in turn, begun together: the primary hands their first connections
 * out to the workers in turn, so both workers send logins to a provider. */
async function logins(n: number) {
  const kinds = Array.from({ length: n }, (_, i): Kind => (i % 2 ? 'bank' : 'mock'));
  const atProviders = await Promise.all(kinds.map((kind) => toProvider(rp, kind, browser())));
  for (const at of atProviders) {
    const sent = { ...at.login, callback: await finishAtProvider(at) };
    const tokens = await exchangeCode(rp, sent, sent.callback);
    expect(tokens.claims()).toMatchObject({ sub: `PNOLV-${PERSONAL_CODE}` });
  }
}

const workerPid = async (worker: number, from = 0) =>
  Number((await gateway.printed(new RegExp(`"worker":${worker},"pid":(\\d+),.*"msg":"worker listening"`), from))[1]);

/** a counter of the scrape `text`, summed over its label sets */
const sum = (text: string, name: string) =>
  [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);

/** The scrape once it counts `expected` completed logins (a login is counted as its tokens_issued event is
 * recorded, which follows the token response), or after 50 tries as it is then. */
async function scrapeCounting(expected: number): Promise<string> {
  let text = '';
  for (let i = 0; i < 50; i += 1) {
    text = await (await fetch(scrapeUrl)).text();
    if (sum(text, 'vpm_logins_completed_total') >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return text;
}

const auditEvents = async (event: string) => {
  const query = await runCli(['audit', 'query', join(dir, 'audit'), '--event', event, '--json']);
  return (JSON.parse(query.stdout) as { entries: { log: string }[] }).entries;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-workers-'));
  const peer = await testBank(dir);
  bank = peer.bank;
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const config = instanceConfig(join(dir, 'gateway.yaml'), {
    dir,
    issuer,
    port,
    redisUrl: process.env.VPM_TEST_REDIS_URL!,
    prefix,
    bank: peer.entry,
    audit: { dir: join(dir, 'audit') },
  });
  gateway = new GatewayProcess(['start', '--config', config, '--workers', '2'], { cwd: dir });
  await gateway.printed(/2 workers sharing the port/);
  scrapeUrl = `http://127.0.0.1:${(await gateway.printed(/metrics on 127\.0\.0\.1:(\d+)\/metrics/))[1]}/metrics`;
  rp = await rpConfig(issuer);
}, 180_000);

afterAll(async () => {
  await gateway?.stop('SIGKILL');
  await bank?.close();
  const redis = new Redis(process.env.VPM_TEST_REDIS_URL!);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('both workers serve logins, each into its own audit log, and the scrape sums their counters', async () => {
  await logins(4);
  const started = await auditEvents('provider_request');
  expect(started).toHaveLength(4);
  // both workers sent logins to a provider: neither's counter alone holds all four
  expect(new Set(started.map((e) => e.log))).toEqual(new Set(['worker-1', 'worker-2']));
  const text = await scrapeCounting(4);
  expect(sum(text, 'vpm_logins_started_total')).toBe(4);
  expect(sum(text, 'vpm_logins_completed_total')).toBe(4);
  expect(text).toMatch(/^vpm_upstream_duration_seconds_count\{provider="testbank",step="callback",outcome="ok"\} 2$/m);
  expect(text).toMatch(/^vpm_audit_batch_size_count [1-9]/m);
  for (const spelling of [PERSONAL_CODE, PERSONAL_CODE.replace('-', '')]) expect(text).not.toContain(spelling);
}, 120_000);

test('a worker killed with SIGKILL is started again and serves; its log goes on, and the counters never go down', async () => {
  const pid = await workerPid(2);
  // the starts were counted on both workers (the first test), the completions where the tokens went
  const counted = (text: string) => sum(text, 'vpm_logins_started_total') + sum(text, 'vpm_logins_completed_total');
  const before = counted(await scrapeCounting(4));
  expect(before).toBe(8);
  const from = gateway.output.length;
  process.kill(pid, 'SIGKILL');
  await gateway.printed(/"worker":2,"code":null,"signal":"SIGKILL".*"msg":"worker exited; restarting it"/, from);
  // scraped while the worker is away and while its successor loads: every scrape answers, and what the
  // killed worker had counted stays in the sums (a counter going down reads as a reset to Prometheus)
  let back = false;
  const listening = workerPid(2, from).then((again) => {
    back = true;
    return again;
  });
  const scrapes: [number, number][] = [];
  while (!back) {
    const res = await fetch(scrapeUrl);
    scrapes.push([res.status, res.ok ? counted(await res.text()) : -1]);
  }
  expect(scrapes.length).toBeGreaterThan(0);
  expect(scrapes.filter(([status, completed]) => status !== 200 || completed !== before)).toEqual([]);
  const again = await listening;
  expect(again).not.toBe(pid);
  await logins(4);
  expect(counted(await scrapeCounting(8))).toBe(before + 8);
  // the new worker 2 took over its predecessor's writer lock (recorded) and wrote on in worker-2
  expect((await auditEvents('audit_writer_lock_taken_over')).map((e) => e.log)).toEqual(['worker-2']);
  expect(await auditEvents('provider_request')).toHaveLength(8);
}, 120_000);

test('SIGTERM: a bank answer in flight completes, every worker drains, exit 0, the logs verify', async () => {
  const at = await toProvider(rp, 'bank', browser());
  const answerPage = await bankAnswerPage(at);
  const answer = parseAutoPost(answerPage.body, answerPage.url)!;
  expect(answer.action).toBe(`${issuer}/broker/callback/testbank`);
  const body = Buffer.from(new URLSearchParams(answer.fields).toString());
  // the browser's own post (its cookies, the login's binding among them), sent by hand to split the body
  const request = http.request(answer.action, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': body.length,
      cookie: at.login.browser.cookieHeader(new URL(answer.action)),
    },
  });
  const response = new Promise<http.IncomingMessage>((ok, fail) => {
    request.once('response', ok);
    request.once('error', fail);
  });
  // half the answer is on a worker's socket when the primary is told to stop
  await new Promise<void>((ok) => request.write(body.subarray(0, body.length >> 1), () => ok()));
  const from = gateway.output.length;
  gateway.child.kill('SIGTERM');
  await gateway.printed(/"role":"primary","signal":"SIGTERM".*"msg":"shutting down"/, from);
  await gateway.printed(/"worker":\d,"signal":"SIGTERM".*"msg":"shutting down"/, from);
  request.end(body.subarray(body.length >> 1));
  const res = await response;
  res.resume();
  expect(res.statusCode).toBe(303);
  expect(res.headers.location).toMatch(/\/auth\/[^/]+$/);
  expect(await gateway.exit).toEqual({ code: 0, signal: null });
  const stopped = gateway.output.slice(from).match(/"worker":\d,"signal":"SIGTERM","msg":"gateway stopped"/g);
  expect(stopped).toHaveLength(2);
  // --config checks each worker's log against that worker's own witnesses (file and Redis)
  const config = join(dir, 'gateway.yaml');
  const verify = await runCli(['audit', 'verify', '--config', config]);
  expect(verify.stdout.match(/the log agrees with the witnesses/g)).toHaveLength(2);
  expect(verify.stdout).toContain('all 2 logs verify');
  expect(verify.code).toBe(0);
  // worker 1's witness put in place of worker 2's: worker 2's log no longer agrees with its witness
  const witness = (n: number) => join(dir, 'audit-key', `audit-witness.worker-${n}.json`);
  const own = readFileSync(witness(2));
  copyFileSync(witness(1), witness(2));
  const swapped = await runCli(['audit', 'verify', '--config', config]);
  expect(swapped.stdout).toContain('FAILED: 1 of 2 logs: worker-2');
  expect(swapped.code).toBe(1);
  writeFileSync(witness(2), own);
  // a worker's log deleted whole (moved away here), then every worker's: their witnesses still name them
  const logDir = (n: number) => join(dir, 'audit', `worker-${n}`);
  const away = (n: number) => join(dir, `worker-${n}.gone`);
  renameSync(logDir(2), away(2));
  const deleted = await runCli(['audit', 'verify', '--config', config]);
  expect(deleted.stdout).toContain(`FAILED: its witness ${witness(2)} holds checkpoint`);
  expect(deleted.stdout).toContain('FAILED: 1 of 2 logs: worker-2');
  expect(deleted.code).toBe(1);
  renameSync(logDir(1), away(1));
  const none = await runCli(['audit', 'verify', '--config', config]);
  expect(none.stdout).toMatch(/FAILED: 2 of \d logs: .*worker-1, worker-2/);
  expect(none.code).toBe(1);
  for (const n of [1, 2]) renameSync(away(n), logDir(n));
  expect((await runCli(['audit', 'verify', '--config', config])).code).toBe(0);
  for (const spelling of [PERSONAL_CODE, PERSONAL_CODE.replace('-', '')])
    expect(gateway.output).not.toContain(spelling);
}, 120_000);

test('workers whose primary is killed end with it; the next start takes their logs over, and they verify', async () => {
  await gateway.stop('SIGTERM');
  const config = join(dir, 'gateway.yaml');
  const start = () => new GatewayProcess(['start', '--config', config, '--workers', '2'], { cwd: dir });
  const orphaned = start();
  await orphaned.printed(/2 workers sharing the port/);
  orphaned.child.kill('SIGKILL');
  // no timer: the output pipes close when the last worker holding them has ended
  await orphaned.closed;
  expect(orphaned.output).not.toMatch(/"msg":"gateway stopped"/);
  // what they wrote is durable: the uncheckpointed tail is authenticated by its entry MACs
  const verify = await runCli(['audit', 'verify', '--config', config]);
  expect(verify.stdout).toContain('all 2 logs verify');
  const takeovers = (await auditEvents('audit_writer_lock_taken_over')).length;
  const next = start();
  await next.printed(/2 workers sharing the port/);
  const taken = (await auditEvents('audit_writer_lock_taken_over')).slice(takeovers).map((e) => e.log);
  expect(taken.sort()).toEqual(['worker-1', 'worker-2']);
  expect(await next.stop('SIGTERM')).toEqual({ code: 0, signal: null });
}, 180_000);

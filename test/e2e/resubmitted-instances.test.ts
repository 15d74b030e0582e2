// A bank's answer posted twice at once (a double click on the bank's "return to the service" button), the
// two posts served by two gateway processes on one Redis. The instance that took the login's state is held
// between taking it and writing what took it (its connection to Redis stops at that write) until the other
// instance has read the state's trace: the interleaving in which the second post comes within one Redis round
// trip of the first, made certain. Whichever answer the browser shows, it leads on to one code for the person,
// as on one instance (providers/banklink/e2e-resubmitted.test.ts); never the "already used" page, whose way
// back would tell the service the login failed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type * as oidc from 'openid-client';
import type { RunningTestBank } from '../../providers/banklink/test-bank/bank.ts';
import { bankAnswerPage, instanceConfig, PERSONAL_CODE, testBank, toProvider } from '../ops/deployment.ts';
import { GatewayProcess, RoundRobinProxy } from '../ops/processes.ts';
import { exchangeCode, rpConfig } from '../support/agency-client.ts';
import { parseAutoPost } from '../support/browser.ts';
import { freePort } from '../support/free-port.ts';
import { atRp } from '../support/gateway.ts';
import { RedisHold } from '../support/redis-hold.ts';

const REDIS = process.env.VPM_TEST_REDIS_URL!;
const prefix = `vpmtest:twice:${randomBytes(6).toString('hex')}:`;
const spentKey = (args: string[]) => args[1]?.startsWith(`${prefix}spent:`) === true;
let dir: string;
let bank: RunningTestBank;
let proxy: RoundRobinProxy;
let hold: RedisHold;
let monitor: Redis;
let issuer: string;
let instances: GatewayProcess[] = [];
let rp: oidc.Configuration;
/** the reads and writes of a state's trace Redis ran, in order */
const traceOps: string[] = [];
const traceOp = (args: string[]) => {
  const op = args[0]?.toLowerCase();
  return (op === 'get' || op === 'set') && spentKey(args) ? op : undefined;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-twice-'));
  const peer = await testBank(dir);
  bank = peer.bank;
  hold = new RedisHold(REDIS);
  const redisUrl = await hold.listen();
  const ports = await Promise.all(['a', 'b'].map(() => freePort()));
  proxy = new RoundRobinProxy(ports);
  issuer = await proxy.listen();
  const configs = ['a', 'b'].map((name, i) =>
    instanceConfig(join(dir, `gateway-${name}.yaml`), {
      dir,
      issuer,
      port: ports[i]!,
      redisUrl,
      prefix,
      bank: peer.entry,
      audit: { dir: join(dir, `audit-${name}`), name },
    }),
  );
  const start = (config: string) => new GatewayProcess(['start', '--config', config, '--workers', '1'], { cwd: dir });
  // the first instance generates the shared keys; the second starts once they exist
  instances = [start(configs[0]!)];
  await instances[0]!.port();
  instances.push(start(configs[1]!));
  await instances[1]!.port();
  rp = await rpConfig(issuer);
  // what Redis runs, as it runs it: a read of a state's trace lets the held instance go on
  monitor = await new Redis(REDIS, { lazyConnect: true }).monitor();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const op = traceOp(args);
    if (op) traceOps.push(op);
    if (op === 'get') hold.release();
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop('SIGKILL')));
  monitor?.disconnect();
  await hold?.close();
  await proxy?.close();
  await bank?.close();
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the answer posted to two instances at once, the first held between taking the state and recording what took it: both posts lead on to one code', async () => {
  const at = await toProvider(rp, 'bank');
  const browser = at.login.browser;
  const page = await bankAnswerPage(at);
  const answer = parseAutoPost(page.body, page.url)!;
  const uid = browser.history.map((h) => /\/interaction\/([^/?]+)/.exec(h.location ?? '')?.[1]).find(Boolean)!;

  // the instance whose take finds the login stops at its write of the trace until the other instance has read
  // the trace (not at all when that read came first; after 10 s regardless: the race did not happen, as
  // asserted below)
  traceOps.length = 0; // the trace written when the login began
  void hold.holdNext((args) => traceOp(args) === 'set' && !traceOps.includes('get'));
  const giveUp = setTimeout(() => hold.release(), 10_000);
  const served = proxy.forwarded.length;
  const posts = await Promise.all([0, 1].map(() => browser.post(answer.action, answer.fields, page.charset)));
  clearTimeout(giveUp);

  // one post went to each instance, and the other instance read the trace before the first one wrote it
  const callbacks = proxy.forwarded.slice(served).filter((f) => f.path.startsWith('/broker/callback/'));
  expect(new Set(callbacks.map((f) => f.instance))).toEqual(new Set([0, 1]));
  expect(traceOps).toEqual(['get', 'set']);

  const title = (body: string) => /<h1[^>]*>([^<]*)/.exec(body)?.[1];
  for (const post of posts)
    expect({ status: post.status, location: post.location, page: title(post.body) }).toEqual({
      status: 303,
      location: `${issuer}/auth/${uid}`,
      page: undefined,
    });
  const finals = await Promise.all(posts.map((post) => browser.follow(post, atRp)));
  const backs = finals.filter(atRp).map((f) => new URL(f.location!));
  // the engine hands out one code (test/e2e/resume-once.test.ts); the service hears of no failure
  expect(backs.filter((b) => b.searchParams.has('error'))).toEqual([]);
  const withCode = backs.filter((b) => b.searchParams.has('code'));
  expect(withCode).toHaveLength(1);
  const tokens = await exchangeCode(rp, at.login, withCode[0]!);
  expect(tokens.claims()).toMatchObject({ sub: `PNOLV-${PERSONAL_CODE}`, idp: 'testbank' });
}, 60_000);

// Redis going away under a running gateway, with real processes the test starts: a Sentinel failover
// (primary, two replicas, three Sentinels; the primary SIGKILLed while logins run) and a plain restart of a
// single server on the same port. Promises attacked: logins go on after the switch without a gateway
// restart; every request that failed during it was a clean retry page (503, Retry-After, the user's
// message, a way to try again) and never a 500; every code handed out before the kill is redeemed after
// it and every token issued before it still works (WAIT: acknowledged writes are on a replica); a token
// request that met the switch is redeemed when tried again (src/oidc/code-redemption.ts); readiness is
// false while Redis is away and true again after.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { Browser, type Hop } from '../support/browser.ts';
import {
  atRp,
  beginLogin,
  chooseProvider,
  exchangeCode,
  mockProviderLogin,
  rpConfig,
  startGateway,
  type TestGateway,
} from '../support/gateway.ts';
import { RedisFleet, type SentinelSet } from './redis-fleet.ts';
import { type RedisProcess, until } from './redis-processes.ts';

const LONG = 120_000;

const RETRY_TEXT = 'The login service is briefly unavailable';

interface Attempt {
  /** the agency service's callback with the code, when the login got that far */
  callback?: URL;
  sent: { verifier: string; state: string; nonce: string };
  hops: Hop[];
}

/** One login through the mock eID in the selection-page way, stopping at the first page that is not a step. */
async function attemptLogin(rp: oidc.Configuration): Promise<Attempt> {
  const browser = new Browser();
  const attempt: Attempt = { sent: { verifier: '', state: '', nonce: '' }, hops: browser.history };
  try {
    const started = await beginLogin(rp, {}, browser);
    attempt.sent = { verifier: started.verifier, state: started.state, nonce: started.nonce };
    const page = await browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
    if (page.status !== 200 || !page.url.includes('/interaction/')) return attempt;
    const authorize = await chooseProvider(browser, page.url, 'mock-eid');
    if (!authorize.location) return attempt;
    // the mock's page is the gateway's own (rate limited in the store): an outage answers it with the retry page
    const back = await mockProviderLogin(browser, authorize, 0).catch((err: unknown) => {
      if (browser.history.at(-1)?.status === 503) return undefined;
      throw err;
    });
    if (!back) return attempt;
    const final = await browser.follow(back, atRp);
    if (atRp(final)) attempt.callback = new URL(final.location!);
  } catch (err) {
    // a network-level failure of our own gateway would be a defect: keep it visible
    attempt.hops.push({ status: 0, url: String(err), body: '', headers: new Headers() });
  }
  return attempt;
}

/** Hops that are neither a step of a login nor a clean retry page: each one a defect. */
function unclean(hops: Hop[]): string[] {
  return hops.flatMap((hop) => {
    if (hop.status > 0 && hop.status < 400) return [];
    const clean =
      hop.status === 503 &&
      hop.headers.get('retry-after') === '5' &&
      hop.body.includes(RETRY_TEXT) &&
      /Try again/.test(hop.body);
    return clean ? [] : [`${hop.status} ${hop.url}: ${hop.body.slice(0, 200)}`];
  });
}

/** How long a code may take to redeem across the switch: a cut-off redemption's lease, then some. */
const REDEEM_WITHIN_MS = 60_000;

/** Redeem a code, trying again while the token endpoint answers temporarily_unavailable. */
let gw: TestGateway;
async function redeem(rp: oidc.Configuration, attempt: Attempt, outage: string[]) {
  const deadline = Date.now() + REDEEM_WITHIN_MS;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`code not redeemed within ${REDEEM_WITHIN_MS} ms: ${outage.at(-1)}`);
    try {
      return await exchangeCode(rp, attempt.sent, attempt.callback!);
    } catch (err) {
      // 503 with Retry-After and the OAuth error in the body; openid-client reads error bodies of 4xx only,
      // so it reports the answer itself
      const res = (err as { cause?: unknown }).cause;
      if (!(res instanceof Response) || res.status !== 503) throw err;
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ error: 'temporarily_unavailable' });
      outage.push('token endpoint: temporarily_unavailable');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function ready(issuer: string): Promise<boolean> {
  const res = await fetch(`${issuer}/readyz`);
  await res.text();
  return res.status === 200;
}

/** /readyz polled until stopped: the sequence of answers, repeated ones collapsed. */
function watchReadiness(issuer: string) {
  const seen: boolean[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const now = await ready(issuer);
      if (seen.at(-1) !== now) seen.push(now);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    seen,
    /** stops watching, after one last look (the loop may have slept through the latest change) */
    stop: async () => {
      stop = true;
      await done;
      const now = await ready(issuer);
      if (seen.at(-1) !== now) seen.push(now);
    },
  };
}

describe('Sentinel failover: the primary SIGKILLed while logins run', () => {
  const fleet = new RedisFleet();
  let set: SentinelSet;
  let rp: oidc.Configuration;

  beforeAll(async () => {
    set = await fleet.sentinelled(2);
    const { url } = set;
    // wait_replicas defaults to 1 with Sentinel
    gw = await startGateway({
      settings: { store: { type: 'redis', url, prefix: `vpmtest:${randomBytes(6).toString('hex')}:` } },
    });
    rp = await rpConfig(gw.issuer);
  }, LONG);
  afterAll(async () => {
    await gw?.close();
    await fleet.stop();
  });

  test(
    'logins go on after promotion; failures in between are retry pages; codes and tokens survive',
    async () => {
      const before = await attemptLogin(rp);
      expect(unclean(before.hops)).toEqual([]);
      expect(before.callback).toBeDefined();
      const tokensBefore = await redeem(rp, before, []);
      // codes handed out and not yet redeemed when the primary dies
      const pending = [await attemptLogin(rp), await attemptLogin(rp)];
      for (const p of pending) expect(p.callback?.searchParams.get('code')).toBeTruthy();

      const readiness = watchReadiness(gw.issuer);
      const attempts: Attempt[] = [];
      const outage: string[] = [];
      let promoted = false;
      let afterPromotion = 0;
      // bounded: a worker that fails stops the other, and neither runs past the deadline
      let failed = false;
      const deadline = Date.now() + 90_000;
      const worker = async () => {
        try {
          while (afterPromotion < 4 && !failed && Date.now() < deadline) {
            const wasPromoted = promoted;
            const attempt = await attemptLogin(rp);
            attempts.push(attempt);
            if (attempt.callback) {
              await redeem(rp, attempt, outage);
              if (wasPromoted) afterPromotion += 1;
              // a citizen shown the retry page tries again a moment later
            } else await new Promise((r) => setTimeout(r, 200));
          }
        } catch (err) {
          failed = true;
          throw err;
        }
      };
      const workers = [worker(), worker()];
      // the primary dies while both workers are inside logins
      await until(async () => attempts.length >= 2, 'logins running');
      await set.primary.kill();
      await until(async () => (await set.primaryPort()) !== set.primary.port, 'a replica promoted');
      promoted = true;
      await Promise.all(workers);
      await until(async () => await ready(gw.issuer), 'ready again');
      await readiness.stop();

      // nothing but clean retry pages among the failures, and some failures there were
      expect(attempts.flatMap((a) => unclean(a.hops))).toEqual([]);
      const retryPages = attempts.flatMap((a) => a.hops.filter((h) => h.status === 503)).length + outage.length;
      expect(retryPages).toBeGreaterThan(0);
      expect(afterPromotion).toBeGreaterThanOrEqual(4);
      // readiness went false during the switch and came back without a restart
      expect(readiness.seen).toEqual(expect.arrayContaining([false]));
      expect(readiness.seen.at(-1)).toBe(true);

      // written before the kill, acknowledged by a replica: still there on the new primary
      for (const p of pending) expect((await redeem(rp, p, [])).claims()).toMatchObject({ idp: 'mock-eid' });
      const info = await oidc.fetchUserInfo(rp, tokensBefore.access_token, tokensBefore.claims()!.sub);
      expect(info.sub).toBe(tokensBefore.claims()!.sub);
    },
    LONG,
  );
});

describe('a single Redis killed and started again on the same port', () => {
  const fleet = new RedisFleet();
  let redis: RedisProcess;
  let rp: oidc.Configuration;

  beforeAll(async () => {
    redis = await fleet.server();
    gw = await startGateway({
      settings: {
        store: {
          type: 'redis',
          url: `redis://127.0.0.1:${redis.port}`,
          prefix: `vpmtest:${randomBytes(6).toString('hex')}:`,
        },
      },
    });
    rp = await rpConfig(gw.issuer);
  }, LONG);
  afterAll(async () => {
    await gw?.close();
    await fleet.stop();
  });

  test(
    'while it is away: retry pages and not ready; after: logins again, no gateway restart',
    async () => {
      expect((await attemptLogin(rp)).callback).toBeDefined();
      await redis.kill();
      expect(await ready(gw.issuer)).toBe(false);
      const during = await attemptLogin(rp);
      expect(during.callback).toBeUndefined();
      expect(during.hops.at(-1)?.status).toBe(503);
      expect(unclean(during.hops)).toEqual([]);
      await redis.start();
      await until(() => ready(gw.issuer), 'ready again');
      const after = await attemptLogin(rp);
      expect(unclean(after.hops)).toEqual([]);
      expect((await redeem(rp, after, [])).claims()).toMatchObject({ idp: 'mock-eid' });
    },
    LONG,
  );
});

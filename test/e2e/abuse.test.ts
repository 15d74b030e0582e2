// Abuse limits and the way back, over real HTTP: per-address rate limits counted in the store (memory, and
// Redis shared by two instances), bounded login state and audit entries per interaction, and a way back to
// the service from every page where a login cannot go on.
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { MemoryStore } from '../../src/store/memory.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { Browser, type Hop } from '../support/browser.ts';
import {
  startGateway,
  useGateway,
  rpConfig,
  beginLogin,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_REDIRECT,
  type TestGateway,
} from '../support/gateway.ts';

async function authUrl(rp: oidc.Configuration, params: Record<string, string> = {}): Promise<string> {
  const verifier = oidc.randomPKCECodeVerifier();
  return oidc
    .buildAuthorizationUrl(rp, {
      redirect_uri: RP_REDIRECT,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: oidc.randomState(),
      ...params,
    })
    .toString();
}

/** `total` anonymous authorization requests from 127.0.0.1, `parallel` at a time, against the issuers in turn. */
async function burst(issuers: oidc.Configuration[], total: number, parallel = 10): Promise<Response[]> {
  const urls = await Promise.all(
    Array.from({ length: total }, (_, i) => authUrl(issuers[i % issuers.length]!, { idp_hint: 'mock-eid' })),
  );
  const out: Response[] = [];
  for (let i = 0; i < urls.length; i += parallel) {
    out.push(
      ...(await Promise.all(
        urls.slice(i, i + parallel).map((u) => fetch(u, { redirect: 'manual', headers: { 'accept-language': 'en' } })),
      )),
    );
  }
  return out;
}

/** A whole login through the mock provider by `browser` (its own source address); returns the RP hop. */
async function loginAs(rp: oidc.Configuration, browser: Browser): Promise<Hop> {
  const started = await beginLogin(rp, { idp_hint: 'mock-eid' }, browser);
  const authorize = await browser.follow(started.hop, (h) => !!h.location?.includes('/providers/mock-eid/authorize'));
  if (!authorize.location)
    throw new Error(`no authorize redirect: ${authorize.status} ${authorize.url} ${authorize.body.slice(0, 500)}`);
  return browser.follow(await mockProviderLogin(browser, authorize, 0), atRp);
}

const events = (gw: TestGateway) => (gw.audit as MemoryAuditLog).events;

describe('rate limits per client address', () => {
  test('a burst of 500 authorization requests from one address meets 429s; another address still logs in', async () => {
    const gw = await startGateway({ store: new MemoryStore() });
    try {
      const rp = await rpConfig(gw.issuer);
      const answers = await burst([rp], 500);
      const refused = answers.filter((r) => r.status === 429);
      expect(refused.length).toBeGreaterThanOrEqual(500 - gw.config.limits.authorization);
      expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused[0]!.text()).toContain('Too many requests came from your address');
      // one structured log line and one audit record for the whole burst, not one per refused request
      expect(gw.logLines.filter((l) => l.includes('rate limit reached'))).toHaveLength(1);
      expect(events(gw).filter((e) => e.detail?.reason === 'rate_limited')).toHaveLength(1);
      const other = await loginAs(rp, new Browser({ localAddress: '127.0.0.2' }));
      expect(new URL(other.location!).searchParams.get('code')).toBeTruthy();
    } finally {
      await gw.close();
    }
  });

  test('the pages an adapter serves itself (/providers/<id>/...) meet their own limit; another address still logs in', async () => {
    const gw = await startGateway({ store: new MemoryStore(), settings: { limits: { provider_pages: 30 } } });
    try {
      const page = `${gw.issuer}/providers/mock-eid/authorize?state=${'x'.repeat(27)}`;
      const answers: Response[] = [];
      for (let i = 0; i < 60; i += 10)
        answers.push(
          ...(await Promise.all(
            Array.from({ length: 10 }, () => fetch(page, { redirect: 'manual', headers: { 'accept-language': 'en' } })),
          )),
        );
      const refused = answers.filter((r) => r.status === 429);
      expect(refused).toHaveLength(30);
      expect(answers.slice(0, 30).every((r) => r.status !== 429)).toBe(true);
      expect(Number(refused[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused[0]!.text()).toContain('Too many requests came from your address');
      const audited = events(gw).filter((e) => e.detail?.reason === 'rate_limited');
      expect(audited.map((e) => e.detail?.bucket)).toEqual(['provider_pages']);
      const other = await loginAs(await rpConfig(gw.issuer), new Browser({ localAddress: '127.0.0.2' }));
      expect(new URL(other.location!).searchParams.get('code')).toBeTruthy();
    } finally {
      await gw.close();
    }
  });

  test('on Redis, two gateway instances count one address together', async () => {
    const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
    const stores = [0, 1].map(() => new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix }));
    const limits = { authorization: 60 };
    const a = await startGateway({ store: stores[0], settings: { limits } });
    const b = await startGateway({ store: stores[1], settings: { limits } });
    try {
      const rps = [await rpConfig(a.issuer), await rpConfig(b.issuer)];
      // 50 to each instance: neither alone sees more than its limit, together they do
      const answers = await burst(rps, 100);
      expect(answers.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(40);
      expect(answers.filter((r, i) => i % 2 === 0 && r.status === 429).length).toBeGreaterThan(0);
      expect(answers.filter((r, i) => i % 2 === 1 && r.status === 429).length).toBeGreaterThan(0);
      const other = await loginAs(rps[1]!, new Browser({ localAddress: '127.0.0.2' }));
      expect(new URL(other.location!).searchParams.get('code')).toBeTruthy();
    } finally {
      await a.close();
      await b.close();
      const keys = await stores[0]!.client.keys(`${prefix}*`);
      if (keys.length) await stores[0]!.client.del(...keys);
      for (const s of stores) await s.close();
    }
  });
});

describe('one interaction, reloaded', () => {
  const store = new MemoryStore();
  const liveLogins = (uid: string) =>
    [...(store as unknown as { entries: Map<string, { value: unknown }> }).entries].filter(
      ([k, e]) =>
        k.startsWith('login:') && typeof e.value === 'string' && (JSON.parse(e.value) as { uid: string }).uid === uid,
    ).length;
  const gw = useGateway(({ cleanup }) => {
    cleanup(() => store.close());
    return { store };
  });

  test('reloading the provider start keeps one live login state and a bounded audit trail, then offers the way back', async () => {
    const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid' });
    const interaction = started.hop.location!;
    const uid = new URL(interaction).pathname.split('/')[2]!;
    let last!: Hop;
    for (let i = 0; i < 30; i += 1) {
      last = await started.browser.get(interaction);
      expect(liveLogins(uid)).toBeLessThanOrEqual(1);
    }
    const limit = gw.config.limits.provider_starts;
    // authorization_request once, two entries per allowed start, one for the refusal
    expect(events(gw).filter((e) => e.correlationId === uid).length).toBeLessThanOrEqual(1 + 2 * limit + 1);
    expect(last.status).toBe(429);
    const back =
      /<form method="post" action="([^"]+\/abort)"><input type="hidden" name="reason" value="([a-z_]+)">/.exec(
        last.body,
      )!;
    const final = await started.browser.follow(
      await started.browser.post(new URL(back[1]!, gw.issuer).toString(), { reason: back[2]! }),
      atRp,
    );
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
  });

  test('reloading the selection page and choosing again: no new audit entries beyond the bound', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    for (let i = 0; i < 20; i += 1) await started.browser.get(page.url);
    for (let i = 0; i < 10; i += 1) await chooseProvider(started.browser, page.url, i % 2 ? 'mock-bank' : 'mock-eid');
    expect(liveLogins(uid)).toBe(1);
    expect(events(gw).filter((e) => e.correlationId === uid).length).toBeLessThanOrEqual(
      1 + 2 * gw.config.limits.provider_starts + 1,
    );
  });
});

describe('the way back after a replay or a reload', () => {
  const gw = useGateway({ store: new MemoryStore() });

  /** To the provider's answer (`user`: a persona, or 'cancel'), which `carrier` delivers (the login's own
   * browser unless given); returns the callback hop (not followed). */
  async function toCallback(user: number | 'cancel' = 0, carrier?: Browser) {
    const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid', ui_locales: 'en' });
    const authorize = await started.browser.follow(
      started.hop,
      (h) => !!h.location?.includes('/providers/mock-eid/authorize'),
    );
    const answer = await mockProviderLogin(started.browser, authorize, user);
    const callback = await (carrier ?? started.browser).get(answer.location!);
    const uid = new URL(started.hop.location!).pathname.split('/')[2]!;
    return { browser: started.browser, answer, callback, uid };
  }

  async function followWayBack(browser: Browser, page: Hop): Promise<URL> {
    const back =
      /<form method="post" action="([^"]+\/abort)"><input type="hidden" name="reason" value="([a-z_]+)">/.exec(
        page.body,
      );
    expect(back).not.toBeNull();
    const final = await browser.follow(
      await browser.post(new URL(back![1]!, gw.issuer).toString(), { reason: back![2]! }),
      atRp,
    );
    return new URL(final.location!);
  }

  test('a replayed provider callback: a page with the way back, which ends the login with an OAuth error', async () => {
    // an answer that did not complete the login (a verified one posted again by its own browser goes on to
    // the resume: providers/banklink/e2e-resubmitted.test.ts)
    const { browser, answer, callback, uid } = await toCallback('cancel');
    expect(callback.status).toBe(303);
    const replay = await browser.get(answer.location!);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('already completed or is no longer valid');
    const rpUrl = await followWayBack(browser, replay);
    expect(rpUrl.searchParams.get('error')).toBe('access_denied');
    // the refused authorization is audited under the login's correlation id, with its provider
    await new Promise((r) => setImmediate(r));
    const refused = events(gw)
      .filter((e) => e.type === 'authorization_request_error')
      .at(-1)!;
    expect(refused).toMatchObject({ correlationId: uid, providerId: 'mock-eid', clientId: 'rp' });
  });

  test('a verified answer goes straight on to the resume, which hands out one code: reached again, it is refused', async () => {
    const { browser, callback, uid } = await toCallback();
    expect(callback.status).toBe(303);
    expect(callback.location).toBe(`${gw.issuer}/auth/${uid}`);
    const resumed = await browser.get(callback.location!);
    expect(resumed.status).toBe(303);
    expect(new URL(resumed.location!).searchParams.get('code')).toBeTruthy();
    const again = await browser.get(callback.location!);
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
    expect(again.body).not.toContain('code=');
  });

  test('a provider answer carried into another browser (login CSRF) is refused at the callback: no code for it', async () => {
    const victim = new Browser();
    const { callback, uid } = await toCallback(0, victim);
    // the victim's browser did not begin this login (no binding cookie): it is told so and goes nowhere
    expect(callback.status).toBe(400);
    expect(callback.location).toBeUndefined();
    expect(callback.body).toContain('This login was begun in another browser');
    expect(callback.body).toContain(uid.slice(0, 8));
  });

  test('a reloaded hand-back page after a refusal: the way back, which ends the login with an OAuth error', async () => {
    const { browser, callback } = await toCallback('cancel');
    expect(callback.location).toMatch(/\/interaction\/[^/]+\/complete$/);
    const complete = await browser.get(new URL(callback.location!, gw.issuer).toString());
    expect(complete.status).toBe(303);
    const reload = await browser.get(new URL(callback.location!, gw.issuer).toString());
    expect(reload.status).toBe(400);
    const rpUrl = await followWayBack(browser, reload);
    expect(rpUrl.searchParams.get('error')).toBe('access_denied');
  });

  test('the audit log failing mid-login (at the provider callback) ends with temporarily_unavailable at the service', async () => {
    const started = await beginLogin(gw.rp, { idp_hint: 'mock-eid', ui_locales: 'en' });
    const authorize = await started.browser.follow(
      started.hop,
      (h) => !!h.location?.includes('/providers/mock-eid/authorize'),
    );
    const answer = await mockProviderLogin(started.browser, authorize, 0);
    const audit = gw.audit as MemoryAuditLog;
    audit.failing = true;
    try {
      const page = await started.browser.get(answer.location!);
      expect(page.status).toBe(400);
      expect(page.body).toContain('temporarily unavailable');
      const back = /<a class="button" href="([^"]+)">/.exec(page.body)![1]!;
      const final = await started.browser.follow(await started.browser.get(new URL(back, gw.issuer).toString()), atRp);
      expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
    } finally {
      audit.failing = false;
    }
  });

  test('the audit log failing when a provider is chosen ends with temporarily_unavailable at the service', async () => {
    const started = await beginLogin(gw.rp, { ui_locales: 'en' });
    const page = await started.browser.follow(started.hop);
    const audit = gw.audit as MemoryAuditLog;
    audit.failing = true;
    try {
      const final = await started.browser.follow(await chooseProvider(started.browser, page.url, 'mock-eid'), atRp);
      expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
    } finally {
      audit.failing = false;
    }
  });
});

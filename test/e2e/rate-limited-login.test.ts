// A citizen whose address meets the abuse limits mid-login (src/web/rate-limit.ts), over real HTTP: the 429
// page in the login's language offers the way back, which reaches the service with temporarily_unavailable
// and its state even though the login pages' and the authorization endpoint's buckets are spent; the way
// back has its own bucket, which a flood still meets; the page's reference finds the login in the file
// audit log with `audit query --correlation`.
import { rmSync } from 'node:fs';
import { MemoryStore } from '../../src/store/memory.ts';
import type { FileAuditLog } from '../../src/audit/log.ts';
import { Browser, type Hop } from '../support/browser.ts';
import { useGateway, beginLogin, atRp, type GatewayInUse, type StartedLogin } from '../support/gateway.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { cli, testLog, type TestLog } from '../audit/helpers.ts';

let t: TestLog;
let log: FileAuditLog;
const store = new MemoryStore();
// per address: one authorization request (each test's login spends it), three login pages, four ways back
const limits = { window_seconds: 3600, authorization: 1, interaction: 3, way_back: 4 };
const gw = useGateway(async ({ cleanup }) => {
  t = testLog();
  log = await t.open();
  cleanup(() => {
    rmSync(t.root, { recursive: true, force: true });
    return store.close();
  });
  return { store, audit: log, settings: { limits } };
});

interface RefusedLogin {
  started: StartedLogin;
  uid: string;
  /** the 429 page the login's page met */
  page: Hop;
}

/** A login from `address` whose selection page is reloaded until the login pages' limit refuses it. */
async function limitedMidLogin(
  address: string,
  params: Record<string, string> = {},
  at: GatewayInUse = gw,
): Promise<RefusedLogin> {
  const started = await beginLogin(at.rp, params, new Browser({ localAddress: address }));
  const selection = await started.browser.follow(started.hop);
  expect(selection.status).toBe(200);
  const uid = new URL(selection.url).pathname.split('/')[2]!;
  let page = selection;
  for (let i = 0; i < 5 && page.status !== 429; i += 1) page = await started.browser.get(selection.url);
  return { started, uid, page };
}

/** The page's way back: its form's target and reason. */
function wayBackOf(page: Hop): { action: string; reason: string } | undefined {
  const origin = new URL(page.url).origin;
  const form = /<form method="post" action="([^"]+\/abort)"><input type="hidden" name="reason" value="([a-z_]+)">/.exec(
    page.body,
  );
  return form ? { action: new URL(form[1]!, origin).toString(), reason: form[2]! } : undefined;
}

const referenceOf = (page: Hop) => /<p class="reference muted">[^<]*<code>([^<]+)<\/code>/.exec(page.body)?.[1];
/** The store's markers of logins already audited as rate-limited. */
const loginMarkers = () =>
  [...(store as unknown as { entries: Map<string, unknown> }).entries.keys()].filter((k) =>
    k.startsWith('rate-limited:'),
  );

test.each<{ lang: string; params: Record<string, string>; text: string; address: string }>([
  // the service's ui_locales, then the browser's language (this test browser sends Accept-Language: en)
  {
    lang: 'lv',
    params: { ui_locales: 'lv' },
    text: 'No jūsu adreses saņemts pārāk daudz pieprasījumu',
    address: '127.0.0.11',
  },
  { lang: 'en', params: {}, text: 'Too many requests came from your address', address: '127.0.0.12' },
])(
  'rate-limited mid-login ($lang): the page says so, its way back ends the login at the service, its reference is in the audit log',
  async ({ lang, params, text, address }) => {
    const { started, uid, page } = await limitedMidLogin(address, params);
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(page.body).toContain(`<html lang="${lang}"`);
    expect(page.body).toContain(text);
    expect(referenceOf(page)).toBe(uid.slice(0, 10));
    const back = wayBackOf(page)!;
    expect(back).toEqual({ action: `${gw.issuer}/interaction/${uid}/abort`, reason: 'rate_limited' });

    // the way back passes both spent buckets (the login pages' and, for the resume, the authorization
    // endpoint's); the service hears a temporary refusal with its own state
    const final = await started.browser.follow(await started.browser.post(back.action, { reason: back.reason }), atRp);
    const answer = new URL(final.location!);
    expect(answer.searchParams.get('error')).toBe('temporarily_unavailable');
    expect(answer.searchParams.get('state')).toBe(started.state);

    // outside a login the page stays as it was: no way back, no reference, in the user's language
    const plain = await started.browser.get(`${gw.issuer}/auth?client_id=rp&ui_locales=${lang}`);
    expect(plain.status).toBe(429);
    expect(plain.body).toContain(`<html lang="${lang}"`);
    expect(plain.body).toContain(text);
    expect(wayBackOf(plain)).toBeUndefined();
    expect(referenceOf(plain)).toBeUndefined();

    await log.checkpoint();
    const found = await cli('query', t.dir, '--correlation', referenceOf(page)!, '--json');
    expect(found.code).toBe(0);
    const entries = found.json.entries as {
      type: string;
      corr: string;
      client: string;
      detail?: Record<string, unknown>;
    }[];
    expect(entries.every((e) => e.corr === uid && e.client === 'rp')).toBe(true);
    // the engine's own record of the error it sent (authorization_request_error) follows its response, so
    // it is not waited for here
    const trail = entries.filter((e) => e.type !== 'authorization_request_error');
    expect(trail.map((e) => [e.type, e.detail?.bucket ?? e.detail?.code])).toEqual([
      ['authorization_request', undefined],
      // the login pages' limit, first reached by this login's page
      ['error', 'interaction'],
      ['verification_error', 'temporarily_unavailable'],
      // the authorization endpoint's limit, first reached by the resume (let through on the way-back bucket)
      ['error', 'auth'],
    ]);
    expect(trail[1]!.detail).toMatchObject({ reason: 'rate_limited', limit: 3, address });
  },
);

test('a flood of ways back meets their own limit; the login is audited a bounded number of times', async () => {
  const { started, uid, page } = await limitedMidLogin('127.0.0.13');
  const back = wayBackOf(page)!;
  const answers: Hop[] = [];
  for (let i = 0; i < 10; i += 1) answers.push(await started.browser.post(back.action, { reason: back.reason }));
  const statuses = answers.map((a) => a.status);
  expect(statuses.slice(0, limits.way_back).every((s) => s !== 429)).toBe(true);
  expect(statuses.slice(limits.way_back)).toEqual(Array(10 - limits.way_back).fill(429));
  const refused = answers.at(-1)!;
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  // still the way back, for when a window ends, and the reference
  expect(wayBackOf(refused)?.action).toBe(back.action);
  expect(referenceOf(refused)).toBe(uid.slice(0, 10));
  // the resume, which would carry the error to the service, is over both limits too
  expect((await started.browser.get(`${gw.issuer}/auth/${uid}`)).status).toBe(429);

  await log.checkpoint();
  const entries = (await cli('query', t.dir, '--correlation', uid, '--json')).json.entries as {
    type: string;
    detail?: Record<string, unknown>;
  }[];
  // the first refusal in each bucket (the login pages, the ways back, the resume at the authorization
  // endpoint) and the login's ending once, however often it was posted
  expect(entries.map((e) => [e.type, e.detail?.bucket ?? e.detail?.code])).toEqual([
    ['authorization_request', undefined],
    ['error', 'interaction'],
    ['verification_error', 'temporarily_unavailable'],
    ['error', 'way_back'],
    ['error', 'auth'],
  ]);
});

test('a resume of a login that has not ended is no way back: over the limit it is refused', async () => {
  // only a resume carrying the error a way back left passes on the way-back bucket; this one would go on
  // with the login itself (its authorization request already spent the address's one)
  const { started, uid } = await limitedMidLogin('127.0.0.15');
  const resume = await started.browser.get(`${gw.issuer}/auth/${uid}`);
  expect(resume.status).toBe(429);
  expect(wayBackOf(resume)?.action).toBe(`${gw.issuer}/interaction/${uid}/abort`);
});

test('a made-up login in the path: the plain page, and no marker in the store', async () => {
  const browser = new Browser({ localAddress: '127.0.0.14' });
  let page!: Hop;
  for (let i = 0; i <= limits.interaction; i += 1) page = await browser.get(`${gw.issuer}/interaction/made-up-${i}`);
  expect(page.status).toBe(429);
  const abort = await browser.post(`${gw.issuer}/interaction/made-up-uid/abort`, { reason: 'rate_limited' });
  expect(abort.status).toBe(429);
  expect(wayBackOf(abort)).toBeUndefined();
  expect(referenceOf(abort)).toBeUndefined();
  expect(loginMarkers().every((k) => !k.includes('made-up'))).toBe(true);
});

describe('two logins behind one address', () => {
  // the address's first refusal is audited under the first login; the second login needs its own record
  const shared = useGateway(({ cleanup }) => {
    const own = new MemoryStore();
    cleanup(() => own.close());
    return { store: own, settings: { limits: { window_seconds: 3600, authorization: 5, interaction: 3 } } };
  });

  test('each refused login is audited once under its own correlation id, the reference on its page', async () => {
    const first = await limitedMidLogin('127.0.0.21', {}, shared);
    const second = await beginLogin(shared.rp, {}, new Browser({ localAddress: '127.0.0.21' }));
    let page = await second.browser.follow(second.hop);
    for (let i = 0; i < 3; i += 1) page = await second.browser.get(page.url);
    expect(page.status).toBe(429);
    const uid = new URL(page.url).pathname.split('/')[2]!;
    expect(uid).not.toBe(first.uid);
    expect(referenceOf(page)).toBe(uid.slice(0, 10));
    const refusals = (correlationId: string) =>
      (shared.audit as MemoryAuditLog).events.filter(
        (e) => e.correlationId === correlationId && e.detail?.reason === 'rate_limited',
      );
    expect(refusals(first.uid)).toHaveLength(1);
    expect(refusals(uid)).toEqual([
      expect.objectContaining({
        type: 'error',
        clientId: 'rp',
        detail: expect.objectContaining({ bucket: 'interaction' }),
      }),
    ]);
  });
});

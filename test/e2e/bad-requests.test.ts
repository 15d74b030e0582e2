// Requests no service or browser would send, over real HTTP: oversized authorization parameters that would
// hold the store, a body too large, a path nobody serves, a body cut off mid-way, and an expired login's
// form. Each gets a clear answer (an OAuth error at the service, or a page in the user's language) and a
// structured log line; none keeps anything in the store, prints a stack trace or names the framework.
import { connect } from 'node:net';
import { jest } from '@jest/globals';
import * as oidc from 'openid-client';
import { PARAMETER_MAX_LENGTH } from '../../src/oidc/parameter-checks.ts';
import { MAX_AUTHORIZATION_BODY } from '../../src/oidc/interop.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { Browser, formFields } from '../support/browser.ts';
import { beginLogin, RP_REDIRECT, useGateway } from '../support/gateway.ts';

const store = new MemoryStore();
const SERVICE = { client_id: 'svc', client_uri: 'https://svc.example.test/start', client_secret: 'x'.repeat(32) };
const gw = useGateway({ store, clients: [{ ...SERVICE, redirect_uris: ['https://svc.example.test/cb'] }] });

function authParams(extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: 'rp',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: RP_REDIRECT,
    state: oidc.randomState(),
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSZRMmwo',
    code_challenge_method: 'S256',
    ...extra,
  };
}

const authGet = (extra: Record<string, string>) =>
  fetch(`${gw.issuer}/auth?${new URLSearchParams(authParams(extra))}`, { redirect: 'manual' });

/** One accepted and one refused request first: the address's rate-limit counter and the deployment's count of
 * records no login can be found for (src/audit/bounded-records.ts) exist, so the store's size is steady. */
async function steadyStore(): Promise<void> {
  expect((await authGet({})).status).toBe(303);
  expect(new URL((await authGet({ state: 'short' })).headers.get('location')!).searchParams.get('error')).toBe(
    'invalid_request',
  );
}

describe('authorization parameters the engine would keep for the interaction', () => {
  const lengths = Object.entries(PARAMETER_MAX_LENGTH) as [keyof typeof PARAMETER_MAX_LENGTH, number][];

  test.each(lengths)(
    '%s longer than %i characters: invalid_request at the service, nothing stored',
    async (name, max) => {
      await steadyStore();
      const before = store.size;
      const res = await authGet({ [name]: 'a'.repeat(max + 1) });
      expect(res.status).toBe(303);
      const location = new URL(res.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(RP_REDIRECT);
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('error_description')).toBe(`${name} is longer than ${max} characters`);
      expect(store.size).toBe(before);
    },
  );

  test('state: 8 to 512 characters go on to the login, 7 or 513 are invalid_request at the service', async () => {
    const answer = async (length: number) => {
      const location = new URL((await authGet({ state: 's'.repeat(length) })).headers.get('location')!, gw.issuer);
      return location.origin + location.pathname === RP_REDIRECT ? location.searchParams.get('error') : 'login';
    };
    expect({ 7: await answer(7), 8: await answer(8), 512: await answer(512), 513: await answer(513) }).toEqual({
      7: 'invalid_request',
      8: 'login',
      512: 'login',
      513: 'invalid_request',
    });
  });

  // every authorization parameter the engine reads (node-oidc-provider's lib/consts/param_list.js and its
  // enabled features: DPoP's dpop_jkt, resource indicators) and the gateway's idp_hint: none of 7,000
  // characters may leave more than a plain Interaction in the store
  test.each([
    ...['acr_values', 'claims_locales', 'client_id', 'code_challenge', 'code_challenge_method', 'display'],
    ...['id_token_hint', 'login_hint', 'max_age', 'nonce', 'prompt', 'redirect_uri', 'registration', 'request'],
    ...['request_uri', 'response_mode', 'response_type', 'scope', 'state', 'ui_locales', 'dpop_jkt', 'resource'],
    ...['claims', 'authorization_details', 'idp_hint'],
  ])('%s of 7,000 characters: refused, or nothing of it kept', async (name) => {
    await steadyStore();
    const before = store.size;
    const res = await authGet({ [name]: 'a'.repeat(7000) });
    const uid = /\/interaction\/([^/?]+)/.exec(res.headers.get('location') ?? '')?.[1];
    if (!uid) {
      expect(store.size).toBe(before);
      return;
    }
    // accepted (a parameter the engine ignores or drops): the Interaction holds none of it
    expect((await store.get(`oidc:Interaction:${uid}`))!.length).toBeLessThan(2000);
  });

  test('at their bounds they are accepted: a nonce of 512 characters and a login_hint of 256 reach the selection page', async () => {
    const res = await authGet({ nonce: 'n'.repeat(PARAMETER_MAX_LENGTH.nonce), login_hint: 'h'.repeat(256) });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/\/interaction\//);
  });
});

describe('pages, not bare statuses', () => {
  test(`an authorization request by POST over ${MAX_AUTHORIZATION_BODY} bytes: 413 with a page in the user's language`, async () => {
    const body = new URLSearchParams(authParams({ nonce: 'a'.repeat(MAX_AUTHORIZATION_BODY) }));
    const res = await fetch(`${gw.issuer}/auth`, { method: 'POST', body, headers: { 'accept-language': 'lv' } });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('Pieprasījums ir pārāk liels.');
  });

  test.each([
    ['/auth', 'application/json', JSON.stringify(authParams({}))],
    ['/auth', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--'],
    ['/session/end', 'application/json', '{"client_id":"rp"}'],
  ])('a POST to %s in %s, not a form: 415 with a page in the user language', async (path, type, body) => {
    const res = await fetch(`${gw.issuer}${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': type, 'accept-language': 'en' },
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('The e-service sent the request in a form the unified login does not accept.');
  });

  test('a path nobody serves: 404 with a page in the user language, through the engine and through Express', async () => {
    for (const path of ['/interaction', '/nothing/here', '/auth/extra/part']) {
      const res = await fetch(`${gw.issuer}${path}`, { headers: { 'accept-language': 'ru' } });
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      const body = await res.text();
      expect(body).toContain('Страница не найдена.');
      // a missing page is not a failed login
      expect(body).toContain('<h1>Страница не найдена</h1>');
      expect(body).not.toContain('Вход не удался');
    }
  });

  test('no response names the framework (X-Powered-By), the adapters’ own app included', async () => {
    const started = await authGet({});
    const paths = [new URL(started.headers.get('location')!, gw.issuer).pathname, '/nothing', '/providers/mock-eid/x'];
    for (const res of [started, ...(await Promise.all(paths.map((p) => fetch(`${gw.issuer}${p}`))))])
      expect(res.headers.get('x-powered-by')).toBeNull();
  });

  test("an expired login's provider choice: the page is in the language the form carried", async () => {
    const res = await fetch(`${gw.issuer}/interaction/expired-uid/provider`, {
      method: 'POST',
      body: new URLSearchParams({ provider: 'mock-eid', ui_locales: 'ru' }),
      headers: { 'accept-language': 'en' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('lang="ru"');
  });

  /** The way-back link of a page, if it has one. */
  const homeLink = (body: string) => /<a class="button" href="([^"]+)">/.exec(body)?.[1];

  test("a login expired on its selection page: the page's forms lead to the service's home page", async () => {
    const { browser, hop } = await beginLogin(gw.rp, { ui_locales: 'en' }, new Browser());
    const selection = await browser.follow(hop);
    // the back button asks again rather than showing a page the login has moved past
    expect(selection.headers.get('cache-control')).toBe('no-store');
    const uid = new URL(selection.url).pathname.split('/')[2]!;
    const forms = [...selection.body.matchAll(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/g)];
    expect(forms.map((f) => f[1]!.split('/').pop())).toEqual(expect.arrayContaining(['provider', 'abort']));
    await store.delete(`oidc:Interaction:${uid}`); // its lifetime ran out while the page stood open
    for (const [, action, fields] of forms) {
      const page = await browser.post(new URL(action!, gw.issuer).toString(), formFields(fields!));
      expect(page.status).toBe(400);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.body).toContain('Return to the e-service and start again');
      // the service's only redirect URI is https://rp.example.test/cb and it names no home page: its origin
      expect(homeLink(page.body)).toBe('https://rp.example.test/');
    }
    // the language links carry the service too
    const switcher = /href="(\/interaction\/[^"]+ui_locales=lv[^"]*)"/
      .exec(selection.body)![1]!
      .replaceAll('&amp;', '&');
    expect(homeLink((await browser.get(new URL(switcher, gw.issuer).toString())).body)).toBe(
      'https://rp.example.test/',
    );
  });

  test('a browser that keeps no cookies: told that cookies are needed, in the page’s language, with the way back', async () => {
    const { browser, hop } = await beginLogin(gw.rp, { ui_locales: 'lv' }, new Browser());
    const selection = await browser.follow(hop);
    const [, action, fields] = /<form method="post" action="([^"]+\/provider)">([\s\S]*?)<\/form>/.exec(
      selection.body,
    )!;
    const cookieless = new Browser();
    const page = await cookieless.post(new URL(action!, gw.issuer).toString(), formFields(fields!));
    expect(page.status).toBe(400);
    expect(page.body).toContain('<html lang="lv"');
    expect(page.body).toContain('Atļaujiet sīkdatnes šai vietnei');
    expect(homeLink(page.body)).toBe('https://rp.example.test/');
  });

  test("a refusal page's way back, posted after the login expired: the service's home page", async () => {
    const { browser, hop } = await beginLogin(gw.rp, { ui_locales: 'en' }, new Browser());
    const selection = await browser.follow(hop);
    const uid = new URL(selection.url).pathname.split('/')[2]!;
    const refusal = await browser.post(`${gw.issuer}/interaction/${uid}/provider`, { provider: 'no-such-provider' });
    const end = /<form method="post" action="([^"]+\/abort)">([\s\S]*?)<\/form>/.exec(refusal.body)!;
    await store.delete(`oidc:Interaction:${uid}`);
    const page = await browser.post(new URL(end[1]!, gw.issuer).toString(), formFields(end[2]!));
    expect(page.status).toBe(400);
    expect(homeLink(page.body)).toBe('https://rp.example.test/');
  });

  test('a service that names its home page (client_uri) is linked there; an unknown client_id links nowhere', async () => {
    const post = (clientId: string) =>
      fetch(`${gw.issuer}/interaction/expired-uid/provider`, {
        method: 'POST',
        body: new URLSearchParams({ provider: 'mock-eid', client_id: clientId }),
      }).then((r) => r.text());
    expect(homeLink(await post('svc'))).toBe(SERVICE.client_uri);
    for (const forged of ['nobody', 'https://evil.example/', '']) expect(homeLink(await post(forged))).toBeUndefined();
  });
});

test('a body cut off and the connection dropped: one structured log line per request, no stack trace on stderr', async () => {
  const port = Number(new URL(gw.issuer).port);
  const written: string[] = [];
  const stderr = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    written.push(args.map(String).join(' '));
  });
  try {
    const before = gw.logLines.length;
    for (const path of ['/token', '/me', '/token/revocation']) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\ngrant_type=`,
          );
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => {});
      });
    }
    const logged = () => gw.logLines.slice(before).filter((line) => line.includes('engine request failed'));
    for (let waited = 0; logged().length < 3 && waited < 2000; waited += 50)
      await new Promise((r) => setTimeout(r, 50));
    expect(logged()).toHaveLength(3);
    expect(written).toEqual([]);
  } finally {
    stderr.mockRestore();
  }
});

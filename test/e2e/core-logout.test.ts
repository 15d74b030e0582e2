// End to end, RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): by GET and by POST, by ID token or
// by client, the confirmation page in the login's language, and a logout the engine refuses (./core-gateway.ts).
import * as oidc from 'openid-client';
import type { Browser } from '../support/browser.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { exchangeCode, loginThroughMock } from '../support/gateway.ts';
import { useCoreGateway } from './core-gateway.ts';

const gw = useCoreGateway();

describe('happy path', () => {
  /** The logout `url` asks for (by GET, or by POST with its parameters as the form), confirmed on the
   * engine's page: it ends at the service's logout URI. */
  async function confirmLogout(browser: Browser, url: URL, method: 'GET' | 'POST' = 'GET'): Promise<void> {
    const confirm =
      method === 'GET'
        ? await browser.get(url.toString())
        : await browser.post(`${url.origin}${url.pathname}`, Object.fromEntries(url.searchParams));
    expect(confirm.status).toBe(200);
    const form = /<form[^>]*id="op.logoutForm"[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(confirm.body);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(form![2]!)![1]!;
    const done = await browser.follow(
      await browser.post(new URL(form![1]!, gw.issuer).toString(), { xsrf, logout: 'yes' }),
      (h) => !!h.location?.startsWith('https://rp.example.test/bye'),
    );
    expect(done.location).toContain('https://rp.example.test/bye');
  }

  test('RP-initiated logout ends the session', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example.test/bye',
    });
    await confirmLogout(login.browser, url);
    // recorded as the service's request
    const logouts = (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'logout');
    expect(logouts.at(-1)).toMatchObject({ clientId: 'rp', detail: { initiator: 'service' } });
  });

  test('RP-initiated logout by POST (RP-Initiated Logout 1.0 section 2): the ID token stays out of every URL', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: 'https://rp.example.test/bye',
    });
    await confirmLogout(login.browser, url, 'POST');
    const urls = login.browser.history.map((h) => `${h.url} ${h.location ?? ''}`).join('\n');
    expect(urls).not.toContain(tokens.id_token!.slice(0, 40));
    // the session is over: the token's account is no longer logged in at the engine
    const again = await login.browser.get(url.toString());
    expect(again.body).not.toContain('op.logoutForm');
  });

  test('RP-initiated logout naming the client instead of the ID token (which carries the personal code): no token in any URL', async () => {
    const login = await loginThroughMock(gw.rp);
    const tokens = await exchangeCode(gw.rp, login, login.callback!);
    const url = oidc.buildEndSessionUrl(gw.rp, { post_logout_redirect_uri: 'https://rp.example.test/bye' });
    expect(url.searchParams.get('client_id')).toBe(gw.rp.clientMetadata().client_id);
    expect(url.searchParams.has('id_token_hint')).toBe(false);
    await confirmLogout(login.browser, url);
    const urls = login.browser.history.map((h) => `${h.url} ${h.location ?? ''}`).join('\n');
    expect(urls).not.toContain(tokens.id_token!.slice(0, 40));
    expect(urls).not.toContain('010180');
  });
});

test('RP-initiated logout asked in Russian says it is done in Russian too, whatever the browser prefers', async () => {
  const login = await loginThroughMock(gw.rp, { ui_locales: 'ru' });
  const b = login.browser;
  const ask = await b.get(`${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', ui_locales: 'ru' })}`);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)![1]!;
  const done = await b.follow(
    await b.post(`${gw.issuer}/session/end/confirm`, { xsrf, logout: 'yes' }),
    (h) => h.status === 200,
  );
  for (const page of [ask, done]) expect(/<html lang="(\w+)"/.exec(page.body)?.[1]).toBe('ru');
});

test("the logout confirmation names the service and lets the user decline, which still returns to the service's logout URI", async () => {
  const login = await loginThroughMock(gw.rp);
  const b = login.browser;
  const ask = await b.get(
    `${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: 'https://rp.example.test/bye' })}`,
  );
  expect(ask.body).toContain('Logging out of the e-service <strong>Test e-service</strong>');
  expect(ask.body).toMatch(/<button class="secondary" form="op.logoutForm" type="submit">No, return to the e-service</);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(ask.body)![1]!;
  // the "No" button posts the form without `logout`
  const back = await b.post(`${gw.issuer}/session/end/confirm`, { xsrf });
  expect(back.location).toBe('https://rp.example.test/bye');
});

test('a logout the engine refuses (an unregistered logout URI): "Logout failed", with the way back to the service', async () => {
  const page = await fetch(
    `${gw.issuer}/session/end?${new URLSearchParams({ client_id: 'rp', post_logout_redirect_uri: 'https://evil.example/bye' })}`,
    { headers: { accept: 'text/html', 'accept-language': 'en' } },
  );
  expect(page.status).toBe(400);
  const body = await page.text();
  expect(body).toContain('<h1>Logout failed</h1>');
  expect(body).toContain('<a class="button" href="https://rp.example.test/">Return to the e-service</a>');
});

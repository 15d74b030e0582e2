// End to end, what is refused: bad authorization requests and failed logins as the agency service sees them,
// tampered, replayed or expired broker state, and a login while the audit log cannot be written (./core-gateway.ts).
import * as oidc from 'openid-client';
import { Browser, formFields } from '../support/browser.ts';
import {
  rpConfig,
  exchangeCode,
  beginLogin,
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  atRp,
  RP_REDIRECT,
} from '../support/gateway.ts';
import { useCoreGateway, clock } from './core-gateway.ts';

const gw = useCoreGateway();

describe('refusals the agency service sees', () => {
  const rpError = async (params: Record<string, string>) => {
    const started = await beginLogin(gw.rp, params);
    expect(started.hop.status).toBe(303);
    const url = new URL(started.hop.location!);
    expect(url.origin + url.pathname).toBe(RP_REDIRECT);
    return url.searchParams;
  };

  test('missing PKCE', async () => {
    const q = await rpError({ code_challenge: '', code_challenge_method: '' });
    expect(q.get('error')).toBe('invalid_request');
  });

  test('plain PKCE', async () => {
    const q = await rpError({ code_challenge_method: 'plain' });
    expect(q.get('error')).toBe('invalid_request');
  });

  test('state missing or shorter than 8 characters', async () => {
    expect((await rpError({ state: 'short' })).get('error')).toBe('invalid_request');
    expect((await rpError({ state: '' })).get('error_description')).toMatch(/state/);
  });

  test('acr_values above what the named provider offers', async () => {
    const q = await rpError({ acr_values: 'high', idp_hint: 'mock-bank' });
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('error_description')).toMatch(/idp_hint/);
  });

  test('acr_values above what any provider offers this client', async () => {
    const config = await rpConfig(gw.issuer, 'rp-bank-only', 'rp-bank-secret-0123456789-0123456789');
    const started = await beginLogin(config, { acr_values: 'high' });
    const q = new URL(started.hop.location!).searchParams;
    expect(q.get('error')).toBe('invalid_request');
    expect(q.get('error_description')).toBe('no provider offers level high to this client');
  });

  test('unknown acr_values', async () => {
    expect((await rpError({ acr_values: 'urn:nope' })).get('error')).toBe('invalid_request');
  });

  test('unknown idp_hint', async () => {
    expect((await rpError({ idp_hint: 'no-such-bank' })).get('error')).toBe('invalid_request');
  });

  test('redirect_uri not registered: an error page, never a redirect', async () => {
    const started = await beginLogin(gw.rp, { redirect_uri: 'https://evil.example/cb' });
    expect(started.hop.status).toBe(400);
    expect(started.hop.location).toBeUndefined();
    expect(started.hop.body).toContain('return address is not registered');
    // the way back is the registered service's home page, never the address the request named
    expect(started.hop.body).toContain('<a class="button" href="https://rp.example.test/">');
    expect(started.hop.body).not.toContain('evil.example');
  });

  test('wrong code_verifier: invalid_grant', async () => {
    const login = await loginThroughMock(gw.rp);
    await expect(
      exchangeCode(gw.rp, { ...login, verifier: oidc.randomPKCECodeVerifier() }, login.callback!),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('authorization code reuse: invalid_grant', async () => {
    const login = await loginThroughMock(gw.rp);
    await exchangeCode(gw.rp, login, login.callback!);
    await expect(exchangeCode(gw.rp, login, login.callback!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  test('user cancels at the provider: error=user_cancel', async () => {
    const login = await loginThroughMock(gw.rp, {}, 'cancel');
    expect(login.callback?.searchParams.get('error')).toBe('user_cancel');
    expect(login.callback?.searchParams.get('state')).toBe(login.state);
  });

  test('the provider reports an outage: the user is told, the service gets temporarily_unavailable', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const refused = await started.browser.follow(await mockProviderLogin(started.browser, authorize, 'outage'));
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('The provider is temporarily unavailable');
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
  });

  test('user cancels on the selection page: error=user_cancel', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const abort = await started.browser.post(`${page.url}/abort`, {});
    const final = await started.browser.follow(abort, atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('user_cancel');
  });

  test('an invalid personal code from the provider is refused: the user is told, the service gets access_denied', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 3);
    const refused = await started.browser.follow(back);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('answer could not be verified');
    const link = /href="(\/interaction\/[^"]+\/complete)"/.exec(refused.body)![1]!;
    const final = await started.browser.follow(await started.browser.get(new URL(link, gw.issuer).toString()), atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
    expect(gw.logLines.join('\n')).not.toContain('123456-12345');
  });
});

describe('broker state', () => {
  async function atProvider(params: Record<string, string> = {}) {
    const started = await beginLogin(gw.rp, params);
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 0);
    return { ...started, back: new URL(back.location!) };
  }

  test('tampered state: refused with an error page', async () => {
    const { browser, back } = await atProvider();
    back.searchParams.set(
      'state',
      back.searchParams.get('state')!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
    );
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('expired or was already used');
  });

  test('replayed state: the second delivery is refused', async () => {
    const { browser, back } = await atProvider();
    const first = await browser.get(back.toString());
    expect(first.status).toBe(303);
    const again = await new Browser().get(back.toString());
    expect(again.status).toBe(400);
  });

  test('an answer after the login expired (ttl.login): told so in the login’s language, the way back tells the service', async () => {
    const { browser, back } = await atProvider({ ui_locales: 'lv' }); // the browser prefers English
    clock.offset = (gw.config.ttl.login + 1) * 1000; // the interaction (ttl.interaction) still lives
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('<html lang="lv"');
    expect(hop.body).toContain('Pieslēgšanās ilga pārāk ilgi');
    const end = /<form method="post" action="([^"]+\/abort)">([\s\S]*?)<\/form>/.exec(hop.body)!;
    const atService = await browser.follow(
      await browser.post(new URL(end[1]!, gw.issuer).toString(), formFields(end[2]!)),
      atRp,
    );
    const answer = new URL(atService.location!).searchParams;
    expect(answer.get('error')).toBe('access_denied');
    expect(answer.get('error_description')).toBe('the login expired while the user was at the provider');
  });

  test('an answer after the interaction expired too: refused, nothing known of the login', async () => {
    const { browser, back } = await atProvider();
    clock.offset = (gw.config.ttl.interaction + 1) * 1000;
    const hop = await browser.get(back.toString());
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('expired or was already used');
  });

  test('unknown provider chosen on the selection page', async () => {
    const started = await beginLogin(gw.rp);
    const page = await started.browser.follow(started.hop);
    const hop = await chooseProvider(started.browser, page.url, 'no-such-provider');
    expect(hop.status).toBe(400);
    expect(hop.body).toContain('Unknown authentication means');
  });

  test('a provider the client may not use is refused even when posted directly', async () => {
    const config = await rpConfig(gw.issuer, 'rp-bank-only', 'rp-bank-secret-0123456789-0123456789');
    const started = await beginLogin(config);
    const page = await started.browser.follow(started.hop);
    expect(page.body).not.toContain('data-provider="mock-eid"');
    expect((await chooseProvider(started.browser, page.url, 'mock-eid')).status).toBe(400);
  });
});

test('fail closed: while the audit log cannot be written no login starts, and the service hears temporarily_unavailable', async () => {
  const audit = gw.audit as unknown as { failing: boolean };
  audit.failing = true;
  try {
    const started = await beginLogin(gw.rp);
    const final = await started.browser.follow(started.hop, atRp);
    expect(new URL(final.location!).searchParams.get('error')).toBe('temporarily_unavailable');
    expect(final.location).not.toContain('code=');
    expect(gw.logLines.some((l) => l.includes('"level":"error"') && l.includes('audit log unavailable'))).toBe(true);
  } finally {
    audit.failing = false;
  }
});

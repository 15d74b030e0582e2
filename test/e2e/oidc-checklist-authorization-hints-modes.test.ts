// The authorization request's hints (id_token_hint, login_hint, ui_locales, acr_values), the request features
// the gateway refuses (claims, request objects, resource indicators), its response modes, and redirect_uri
// checks that end on an error page, held to the OpenID Foundation conformance plans (./oidc-checklist-kit.ts).
import * as oidc from 'openid-client';
import { SignJWT } from 'jose';
import { formFields } from '../support/browser.ts';
import {
  rpConfig,
  beginLogin,
  loginThroughMock,
  chooseProvider,
  mockProviderLogin,
  RP_REDIRECT,
} from '../support/gateway.ts';
import {
  useChecklistGateway,
  describeLogsFreeOfSecrets,
  remember,
  keys,
  store,
  exchange,
  loginAndExchange,
  rpParams,
  rawAuthorize,
  PAIRWISE_SECRET,
} from './oidc-checklist-kit.ts';

const gw = useChecklistGateway();

describe('authorization request', () => {
  test('id_token_hint naming the person who authenticates: a normal login', async () => {
    const first = await loginAndExchange();
    const { tokens } = await loginAndExchange(gw.rp, { id_token_hint: first.tokens.id_token! });
    expect(tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
  });

  test('id_token_hint naming someone else than who authenticates: login_required, no code', async () => {
    const anna = await loginAndExchange(gw.rp, {}, 1);
    const login = await loginThroughMock(gw.rp, { id_token_hint: anna.tokens.id_token! }, 0);
    expect(login.callback?.searchParams.get('error')).toBe('login_required');
    expect(login.callback?.searchParams.get('code')).toBeNull();
  });

  test('id_token_hint with a pairwise subject: the same person passes, someone else is login_required', async () => {
    const pairwise = await rpConfig(gw.issuer, 'rp-pairwise', PAIRWISE_SECRET);
    const scope = 'openid profile'; // never the personal code (src/config/load.ts)
    const first = await loginAndExchange(pairwise, { scope });
    expect(first.tokens.claims()!.sub).not.toContain('PNO');
    const same = await loginAndExchange(pairwise, { scope, id_token_hint: first.tokens.id_token! });
    expect(same.tokens.claims()!.sub).toBe(first.tokens.claims()!.sub);
    const other = await loginThroughMock(pairwise, { scope, id_token_hint: first.tokens.id_token! }, 2);
    expect(other.callback?.searchParams.get('error')).toBe('login_required');
    // and that browser's engine session, logged in as the other person by the resume, is ended: its cookie
    // cleared, or what it names gone from the store
    const session = /(?:^|; )_session=([^;]+)/.exec(other.browser.cookieHeader(new URL(gw.issuer)))?.[1];
    expect(session === undefined || (await store.get(`oidc:Session:${session}`)) === undefined).toBe(true);
  });

  test('id_token_hint that is not our ID token: invalid_request', async () => {
    const forged = await new SignJWT({ sub: 'PNOLV-010180-15097' })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(gw.issuer)
      .setAudience('rp')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(keys.otherKey);
    expect(rpParams(await rawAuthorize({ id_token_hint: forged })).get('error')).toBe('invalid_request');
    expect(rpParams(await rawAuthorize({ id_token_hint: 'not-a-jwt' })).get('error')).toBe('invalid_request');
  });

  test('login_hint is accepted (the provider decides who authenticates) and never logged', async () => {
    const hint = '32503511782';
    const { tokens } = await loginAndExchange(gw.rp, { login_hint: hint });
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test("ui_locales chooses the selection page language, ahead of the browser's Accept-Language", async () => {
    const lang = async (ui?: string) => {
      const started = await beginLogin(gw.rp, ui ? { ui_locales: ui } : {});
      const page = await started.browser.follow(started.hop);
      expect(page.status).toBe(200);
      return { lang: /<html lang="(\w+)"/.exec(page.body)?.[1], page, browser: started.browser };
    };
    expect((await lang('lv')).lang).toBe('lv'); // the test browser sends Accept-Language: en
    expect((await lang('en')).lang).toBe('en');
    expect((await lang('fr-FR lv')).lang).toBe('lv');
    expect((await lang()).lang).toBe('en');
    // the language travels on to the provider
    const lv = await lang('lv');
    const authorize = await chooseProvider(lv.browser, lv.page.url, 'mock-eid');
    expect(new URL(authorize.location!).searchParams.get('ui_locales')).toBe('lv');
  });

  test('acr_values is honoured: the level achieved meets the one asked for', async () => {
    const bank = await loginThroughMock(gw.rp, { acr_values: 'substantial' }, 0, 'mock-bank');
    expect((await exchange(gw.rp, bank, bank.callback!)).claims()).toMatchObject({
      acr: 'substantial',
      idp: 'mock-bank',
    });
    const high = await loginThroughMock(gw.rp, { acr_values: 'high' });
    expect((await exchange(gw.rp, high, high.callback!)).claims()).toMatchObject({ acr: 'high', idp: 'mock-eid' });
    // a level the chosen provider cannot reach is never offered, even when posted directly
    const started = await beginLogin(gw.rp, { acr_values: 'high' });
    const page = await started.browser.follow(started.hop);
    expect((await chooseProvider(started.browser, page.url, 'mock-bank')).status).toBe(400);
  });

  test('the claims parameter is not supported: it releases nothing beyond the scopes', async () => {
    const claims = JSON.stringify({
      id_token: { personal_code: { essential: true }, given_name: null },
      userinfo: { personal_code: null },
    });
    const { tokens } = await loginAndExchange(gw.rp, { scope: 'openid', claims });
    expect(tokens.claims()).not.toHaveProperty('personal_code');
    expect(tokens.claims()).not.toHaveProperty('given_name');
    const info = await oidc.fetchUserInfo(gw.rp, tokens.access_token, tokens.claims()!.sub);
    expect(info).not.toHaveProperty('personal_code');
  });

  test('request objects are not supported: request_not_supported, request_uri_not_supported', async () => {
    const request = await new SignJWT({
      client_id: 'rp',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: RP_REDIRECT,
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'rp-key-1' })
      .setIssuer('rp')
      .setAudience(gw.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(keys.rpKey);
    expect(rpParams(await rawAuthorize({ request })).get('error')).toBe('request_not_supported');
    const viaUri = rpParams(await rawAuthorize({ request_uri: 'https://rp.example.test/request.jwt' }));
    expect(viaUri.get('error')).toMatch(/^(request_uri_not_supported|invalid_request_uri)$/);
    expect(viaUri.get('code')).toBeNull();
  });

  test('resource indicators are not offered: a resource parameter is invalid_target', async () => {
    const q = rpParams(await rawAuthorize({ resource: 'https://api.example.test/' }));
    expect(q.get('error')).toBe('invalid_target');
    expect(q.get('code')).toBeNull();
  });

  test('response_mode=form_post delivers the code by an auto-submitted form, on a page in the login’s language', async () => {
    const started = await beginLogin(gw.rp, { response_mode: 'form_post', ui_locales: 'ru' });
    const page = await started.browser.follow(started.hop);
    const authorize = await chooseProvider(started.browser, page.url, 'mock-eid');
    const back = await mockProviderLogin(started.browser, authorize, 0);
    const final = await started.browser.follow(back, (h) => h.status === 200 && h.body.includes(RP_REDIRECT));
    const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(final.body)!;
    expect(form[1]).toBe(RP_REDIRECT);
    const fields = formFields(form[2]!);
    expect(fields.state).toBe(started.state);
    expect(fields.iss).toBe(gw.issuer);
    expect(final.body).toContain('<html lang="ru"');
    expect(final.body).toContain('<h1>Перенаправление…</h1>');
    const callback = new URL(RP_REDIRECT);
    for (const [k, v] of Object.entries(fields)) callback.searchParams.set(k, v);
    const tokens = await exchange(gw.rp, started, callback);
    expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
  });

  test('response_mode=fragment delivers the code in the fragment', async () => {
    const login = await loginThroughMock(gw.rp, { response_mode: 'fragment' });
    const hash = new URLSearchParams(login.callback!.hash.slice(1));
    expect(hash.get('state')).toBe(login.state);
    remember(hash.get('code'));
    expect(login.callback!.searchParams.get('code')).toBeNull();
  });
});

describe('redirect_uri: an error page, never a redirect', () => {
  test.each([
    ['another host', { redirect_uri: 'https://evil.example/cb' }],
    ['a trailing slash', { redirect_uri: `${RP_REDIRECT}/` }],
    ['an extra query', { redirect_uri: `${RP_REDIRECT}?next=https://evil.example` }],
    ['http instead of https', { redirect_uri: RP_REDIRECT.replace('https:', 'http:') }],
    ['a different case', { redirect_uri: RP_REDIRECT.toUpperCase() }],
    ['missing (OpenID Connect requires it)', { redirect_uri: undefined }],
    ['an unknown client', { client_id: 'no-such-client' }],
    ['no client', { client_id: undefined }],
  ])('%s', async (_name, params) => {
    const hop = await rawAuthorize(params as Record<string, string | undefined>);
    expect(hop.status).toBe(400);
    expect(hop.location).toBeUndefined();
    expect(hop.headers.get('content-type')).toMatch(/text\/html/);
    expect(hop.body).not.toContain('evil.example');
  });
});

describeLogsFreeOfSecrets(() => [gw.logLines]);

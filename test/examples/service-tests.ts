// What every example service whose pages follow examples/README.md (the claims as <dl> lists, the error as
// <code id="error">, logout through the gateway's confirmation) must show, whatever its stack: a mock eID
// login with the claims of the ID token and of userinfo, a bank login with idp_hint, a cancel that ends as
// an error once, and RP-initiated logout back to the start page.
import {
  Browser,
  type Hop,
  authorizationRequest,
  authorizationRequests,
  cancel,
  confirmLogout,
  loginWithDemoBank,
  loginWithMockEid,
  settle,
} from './support.ts';

export interface ServiceUnderTest {
  /** the example service's base URL */
  rpBase: string;
  /** the gateway's issuer */
  issuer: string;
  /** the service's client_id at the gateway */
  clientId: string;
}

/** The inside of the page's `<dl id="...">` (id-token or userinfo): its <dt>/<dd> rows as HTML. */
export function claimList(page: Hop, id: 'id-token' | 'userinfo'): string {
  const list = new RegExp(`<dl id="${id}">([\\s\\S]*?)</dl>`).exec(page.body);
  if (!list) throw new Error(`no <dl id="${id}"> on ${page.url}: ${page.body.slice(0, 300)}`);
  return list[1]!;
}

/** The claims of the page's `<dl id="...">` by name, as the page shows their values. */
function claimsOn(page: Hop, id: 'id-token' | 'userinfo'): Record<string, string> {
  return Object.fromEntries(
    [...claimList(page, id).matchAll(/<dt>([^<]*)<\/dt><dd>([^<]*)<\/dd>/g)].map((m) => [m[1]!, m[2]!]),
  );
}

/** Logged in: RP-initiated logout with the ID token as hint, confirmed, back on the service's start page. */
export async function logOutToStart(b: Browser, rpBase: string): Promise<void> {
  const confirm = await settle(b, await b.post(`${rpBase}/logout`, {}));
  expect(new URL(confirm.url).searchParams.get('id_token_hint')).toBeTruthy();
  const out = await confirmLogout(b, confirm);
  expect(out.url).toBe(`${rpBase}/`);
  expect(out.body).toContain('Log in');
  expect(out.body).not.toContain('Welcome');
}

/** Registers the mock eID, bank-login and cancel tests; `afterCancel` adds what one stack checks beyond them. */
export function serviceTests(
  service: () => ServiceUnderTest,
  afterCancel?: (b: Browser, errorPage: Hop) => Promise<void>,
): void {
  test('log in with the mock eID: the service shows the verified ID token and userinfo claims, then logs out', async () => {
    const { rpBase, issuer, clientId } = service();
    const b = new Browser();
    const selection = await settle(b, await b.get(`${rpBase}/login`));
    // the authorization request the example sent
    const auth = authorizationRequest(b, issuer);
    expect(auth.get('client_id')).toBe(clientId);
    expect(auth.get('code_challenge_method')).toBe('S256');
    expect(auth.get('code_challenge')).toBeTruthy();
    expect(auth.get('scope')).toBe('openid profile personal_code');
    expect(auth.get('state')).toBeTruthy();
    expect(auth.get('nonce')).toBeTruthy();
    const page = await loginWithMockEid(b, selection);
    expect(page.url).toBe(`${rpBase}/`);
    expect(page.body).toContain('Welcome, Jānis Bērziņš');
    const idToken = claimList(page, 'id-token');
    expect(idToken).toContain(`<dt>iss</dt><dd>${issuer}</dd>`);
    expect(idToken).toContain(`<dt>aud</dt><dd>${clientId}</dd>`);
    expect(idToken).toContain('<dt>sub</dt><dd>PNOLV-010180-15097</dd>');
    expect(idToken).toContain('<dt>idp</dt><dd>demo-eid</dd>');
    expect(idToken).toContain('<dt>acr</dt><dd>high</dd>');
    const userinfo = claimList(page, 'userinfo');
    expect(userinfo).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
    expect(userinfo).toContain('<dt>given_name</dt><dd>Jānis</dd>');

    await logOutToStart(b, rpBase);
  });

  test('acr, amr and auth_time come from userinfo as well as from the ID token, with the same values', async () => {
    const { rpBase } = service();
    const b = new Browser();
    const selection = await settle(b, await b.get(`${rpBase}/login`));
    const page = await loginWithMockEid(b, selection);
    expect(page.url).toBe(`${rpBase}/`);
    const idToken = claimsOn(page, 'id-token');
    const userinfo = claimsOn(page, 'userinfo');
    expect(userinfo.acr).toBe('high');
    expect(userinfo.amr).toBeTruthy();
    expect(userinfo.auth_time).toMatch(/^\d+$/);
    for (const claim of ['acr', 'amr', 'auth_time', 'idp', 'sub']) expect(userinfo[claim]).toBe(idToken[claim]);
  });

  test('log in through the test bank demo-bank (idp_hint skips the selection page)', async () => {
    const { rpBase } = service();
    const b = new Browser();
    const bankPage = await settle(b, await b.get(`${rpBase}/login?idp=demo-bank`));
    const page = await loginWithDemoBank(b, bankPage);
    expect(page.url).toBe(`${rpBase}/`);
    expect(page.body).toContain('<dt>idp</dt><dd>demo-bank</dd>');
    expect(page.body).toContain('<dt>acr</dt><dd>substantial</dd>');
    expect(page.body).toContain('<dt>personal_code</dt><dd>010180-15097</dd>');
  });

  test('cancel on the selection page: the service shows user_cancel as an error, once, without a new login', async () => {
    const { rpBase, issuer } = service();
    const b = new Browser();
    const selection = await settle(b, await b.get(`${rpBase}/login`));
    const page = await cancel(b, selection);
    expect(page.url).toMatch(new RegExp(`^${rpBase}/callback\\?`));
    expect(new URL(page.url).searchParams.get('error')).toBe('user_cancel');
    expect(page.status).toBe(401);
    expect(page.body).toContain('<code id="error">user_cancel</code>');
    expect(page.body).toContain('You cancelled the login.');
    expect(authorizationRequests(b, issuer)).toBe(1);
    await afterCancel?.(b, page);
  });
}

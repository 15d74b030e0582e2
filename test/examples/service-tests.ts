// What every example service whose pages follow examples/README.md (the claims as <dl> lists, the error as
// <code id="error">, logout through the gateway's confirmation) must show, whatever its stack: a bank login
// with idp_hint, a cancel that ends as an error once, and RP-initiated logout back to the start page.
import {
  Browser,
  type Hop,
  authorizationRequests,
  cancel,
  confirmLogout,
  loginWithDemoBank,
  settle,
} from './support.ts';

export interface ServiceUnderTest {
  /** the example service's base URL */
  rpBase: string;
  /** the gateway's issuer */
  issuer: string;
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

/** Registers the bank-login and cancel tests; `afterCancel` adds what one stack checks beyond them. */
export function serviceTests(
  service: () => ServiceUnderTest,
  afterCancel?: (b: Browser, errorPage: Hop) => Promise<void>,
): void {
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

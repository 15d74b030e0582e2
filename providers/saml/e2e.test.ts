// End to end through the whole gateway: openid-client plays the agency service, the gateway sends the
// browser to a test SAML IdP (signed AuthnRequest by HTTP-Redirect or HTTP-POST), the IdP answers by
// HTTP-POST with a signed, plain or encrypted assertion, and the agency service gets the person.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { Browser, type Hop } from '../../test/support/browser.ts';
import { useGateway, beginLogin, atRp, chooseProvider, exchangeCode } from '../../test/support/gateway.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import type { SamlAdapter } from './index.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from './test-idp/index.ts';

const idps: Record<string, RunningTestIdp> = {};

const PROVIDERS = {
  'eidas-plain': { binding: 'redirect', encrypted: false },
  'eidas-enc': { binding: 'post', encrypted: true },
} as const;

const gw = useGateway(async ({ dir, cleanup }) => {
  const providers = [];
  for (const [id, p] of Object.entries(PROVIDERS)) {
    idps[id] = await startTestIdp({
      sp: () => {
        const a = gw.gateway.adapters.get(id) as SamlAdapter;
        return {
          entityId: a.spEntityId,
          signingCert: a.certificates.signing,
          encryptionCert: a.certificates.encryption,
          acsUrl: a.metadataAcsUrl,
        };
      },
      encryptAssertions: p.encrypted,
      loa: 'high',
    });
    cleanup(() => idps[id]!.close());
    writeFileSync(join(dir, `${id}.pem`), idps[id].key.cert);
    providers.push({
      ...SAML_TEST_ENTRY,
      id,
      name: { lv: `${id} (tests)`, en: `${id} (test)` },
      idp: { entity_id: idps[id].entityId, sso_url: idps[id].ssoUrl, certificates: [join(dir, `${id}.pem`)] },
      binding: p.binding,
      require_encrypted_assertion: p.encrypted,
      amr: ['eidas'],
    });
  }
  return { providers };
});

/** From the agency service to the IdP's login page, through the selection page. */
async function toIdp(providerId: string, params: Record<string, string> = {}) {
  const started = await beginLogin(gw.rp, params, new Browser());
  const selection = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  const chosen = await chooseProvider(started.browser, selection.url, providerId);
  const idpPage = await started.browser.follow(
    chosen,
    (h) => h.status === 200 && h.url.startsWith(idps[providerId]!.url),
  );
  return { ...started, idpPage };
}

async function atIdp(browser: Browser, page: Hop, action: 'login' | 'cancel'): Promise<Hop> {
  const form = parseForm(page.body);
  const back = await browser.post(form.action, { ...form.fields, user: '0', action });
  return browser.follow(back, atRp);
}

describe.each(Object.entries(PROVIDERS))('login through the gateway with %s', (id, p) => {
  test(`the agency service gets the verified person (${p.binding} request, ${p.encrypted ? 'encrypted' : 'plain'} assertion)`, async () => {
    const { browser, idpPage, verifier, state, nonce } = await toIdp(id, { acr_values: 'substantial' });
    expect(idpPage.body).toContain('Test SAML IdP');
    const final = await atIdp(browser, idpPage, 'login');
    const tokens = await exchangeCode(gw.rp, { verifier, state, nonce }, final);
    const claims = tokens.claims()!;
    expect(claims.sub).toBe('PNOLV-010180-15097');
    expect(claims.acr).toBe('high');
    const info = await oidc.fetchUserInfo(gw.rp, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ given_name: 'Jānis', family_name: 'Bērziņš' });
    // the SAML response went through the broker's audited pipeline
    const events = (gw.audit as MemoryAuditLog).events.filter((e) => e.providerId === id).map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['provider_request', 'provider_response', 'verification']));
  });

  test('a cancel at the IdP returns user_cancel to the agency service', async () => {
    const { browser, idpPage, state } = await toIdp(id);
    const final = await atIdp(browser, idpPage, 'cancel');
    const url = new URL(final.location!);
    expect(url.searchParams.get('error')).toBe('user_cancel');
    expect(url.searchParams.get('state')).toBe(state);
  });

  test('the same SAML response posted again is refused and completes nothing', async () => {
    const { browser, idpPage } = await toIdp(id);
    const form = parseForm(idpPage.body);
    const answer = await browser.post(form.action, { ...form.fields, user: '0', action: 'login' });
    const post = parseForm(answer.body);
    const first = await browser.post(post.action, post.fields);
    expect(first.status).toBe(303);
    const again = await new Browser().post(post.action, post.fields);
    expect(again.status).toBe(400);
  });
});

test('SP metadata is served by the gateway under /providers/<id>/metadata with the broker callback as ACS', async () => {
  const res = await fetch(`${gw.issuer}/providers/eidas-enc/metadata`);
  expect(res.status).toBe(200);
  const xml = await res.text();
  expect(xml).toContain(`entityID="${gw.issuer}/providers/eidas-enc/metadata"`);
  expect(xml).toContain(`Location="${gw.issuer}/broker/callback/eidas-enc"`);
});

test('a SAMLResponse beyond max_response_bytes: 400 with an audit record, and the service hears access_denied', async () => {
  const { browser, idpPage, state } = await toIdp('eidas-enc');
  const form = parseForm(idpPage.body);
  const answer = await browser.post(form.action, { ...form.fields, user: '0', action: 'login' });
  const post = parseForm(answer.body);
  // the adapter's default max_response_bytes is 256 KiB: its base64 limit plus one character
  const limit = (gw.gateway.adapters.get('eidas-enc') as SamlAdapter).callbackFieldLimits.SAMLResponse!;
  expect(limit).toBe(Math.ceil((256 * 1024 * 4) / 3) + 1024);
  const page = await browser.post(post.action, { ...post.fields, SAMLResponse: 'A'.repeat(limit + 1) });
  expect(page.status).toBe(400);
  const refused = (gw.audit as MemoryAuditLog).events.at(-1)!;
  expect(refused).toMatchObject({
    type: 'provider_response_error',
    providerId: 'eidas-enc',
    detail: { reason: `field SAMLResponse longer than ${limit} characters` },
  });
  expect(refused.correlationId).toBeTruthy();
  const back = /<a class="button" href="([^"]+)">/.exec(page.body)![1]!;
  const final = await browser.follow(await browser.get(new URL(back, gw.issuer).toString()), atRp);
  const url = new URL(final.location!);
  expect(url.searchParams.get('error')).toBe('access_denied');
  expect(url.searchParams.get('state')).toBe(state);
});

test('an oversized RelayState (SAML allows 80 bytes) is refused with 400 and an audit record', async () => {
  const res = await new Browser().post(`${gw.issuer}/broker/callback/eidas-plain`, {
    SAMLResponse: 'AAAA',
    RelayState: 'R'.repeat(81),
  });
  expect(res.status).toBe(400);
  expect((gw.audit as MemoryAuditLog).events.at(-1)).toMatchObject({
    type: 'provider_response_error',
    providerId: 'eidas-plain',
    detail: { reason: 'field RelayState longer than 80 characters' },
  });
});

test('CSP form-action allows our own origin and the IdPs the gateway posts to', async () => {
  const started = await beginLogin(gw.rp, {}, new Browser());
  const selection = await started.browser.follow(started.hop, (h) => h.status === 200);
  const formAction = /form-action ([^;]*)/
    .exec(selection.headers.get('content-security-policy') ?? '')![1]!
    .trim()
    .split(/\s+/);
  expect(formAction).toContain("'self'");
  for (const idp of Object.values(idps)) expect(formAction).toContain(new URL(idp.ssoUrl).origin);
});

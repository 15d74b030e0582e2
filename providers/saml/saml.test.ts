// The SAML adapter against the test IdP over real HTTP: the shared conformance suite for both bindings,
// plain and encrypted assertions and each attribute profile; plus metadata, levels and status mapping.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { adapterConformance, type AdapterHarness } from '../../test/support/adapter-conformance.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { ProviderError, type StartAction } from '../../src/broker/adapter.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { factory, type SamlAdapter } from './index.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from './test-idp/index.ts';
import type { AttributePreset } from './attributes.ts';

const BASE = 'https://gateway.test';

interface Setup {
  binding: 'redirect' | 'post';
  encrypted: boolean;
  profile?: AttributePreset;
  idpLoa?: Loa;
  providerLoa?: Loa;
}

interface SamlHarness extends AdapterHarness {
  adapter: SamlAdapter;
  idp: RunningTestIdp;
  store: MemoryStore;
}

async function samlHarness(s: Setup): Promise<SamlHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'vpm-saml-'));
  let adapter: SamlAdapter | undefined;
  const id = 'eidas';
  const callbackUrl = `${BASE}/broker/callback/${id}`;
  const idp = await startTestIdp({
    sp: () => {
      if (!adapter) throw new Error('SP not ready');
      return {
        entityId: adapter.spEntityId,
        signingCert: adapter.certificates.signing,
        encryptionCert: adapter.certificates.encryption,
        acsUrl: callbackUrl,
      };
    },
    encryptAssertions: s.encrypted,
    profile: s.profile ?? 'eidas',
    loa: s.idpLoa ?? 'high',
  });
  const idpCert = join(dir, 'idp.pem');
  await writeFile(idpCert, idp.key.cert);
  const config = factory.schema.parse({
    ...SAML_TEST_ENTRY,
    id,
    loa: s.providerLoa ?? 'high',
    idp: { entity_id: idp.entityId, sso_url: idp.ssoUrl, certificates: [idpCert] },
    binding: s.binding,
    require_encrypted_assertion: s.encrypted,
    attributes: s.profile ?? 'eidas',
    amr: ['eidas'],
  });
  const store = new MemoryStore();
  adapter = (await factory.create(config, adapterDeps(join(dir, 'keys'), { baseUrl: BASE, store }))) as SamlAdapter;
  const a = adapter;
  return {
    adapter: a,
    idp,
    store,
    callbackUrl,
    expectedSubject: 'PNOLV-010180-15097',
    async drive(action: StartAction, outcome: 'success' | 'cancel') {
      const first =
        action.type === 'redirect'
          ? await fetch(action.url)
          : await fetch(action.url, { method: 'POST', body: new URLSearchParams(action.fields) });
      const html = await first.text();
      if (first.status !== 200) throw new Error(`IdP refused the request: ${html}`);
      const login = parseForm(html);
      const answer = await fetch(login.action, {
        method: 'POST',
        body: new URLSearchParams({ ...login.fields, user: '0', action: outcome === 'success' ? 'login' : 'cancel' }),
      });
      const post = parseForm(await answer.text());
      if (post.action !== callbackUrl) throw new Error(`IdP posted to ${post.action}`);
      return { method: 'POST', params: post.fields };
    },
    withState: (cb, state) => ({ ...cb, params: { ...cb.params, RelayState: state } }),
    async teardown() {
      await idp.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

adapterConformance('saml, HTTP-Redirect request, plain signed assertion', () =>
  samlHarness({ binding: 'redirect', encrypted: false }),
);
adapterConformance('saml, HTTP-POST request, encrypted assertion', () =>
  samlHarness({ binding: 'post', encrypted: true }),
);

describe('saml adapter with the test IdP', () => {
  const harnesses: SamlHarness[] = [];
  const make = async (s: Setup) => {
    const h = await samlHarness(s);
    harnesses.push(h);
    return h;
  };
  afterAll(async () => {
    for (const h of harnesses) await h.teardown();
  });

  const login = async (h: SamlHarness, acr?: Loa, outcome: 'success' | 'cancel' = 'success') => {
    const loginStartedAt = Date.now();
    const started = await h.adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: h.callbackUrl,
      acr,
      locale: 'en',
      correlationId: 'c',
    });
    const cb = await h.drive(started.action, outcome);
    return h.adapter.callback({
      params: cb.params,
      method: cb.method,
      connData: started.connData,
      acr,
      callbackUrl: h.callbackUrl,
      correlationId: 'c',
      loginStartedAt,
      authenticatedNotBefore: undefined,
    });
  };

  test.each(['oid', 'identity-claims', 'eidas'] as const)(
    'attribute profile %s maps names and personal code',
    async (profile) => {
      const h = await make({ binding: 'redirect', encrypted: false, profile });
      const { identity } = await login(h);
      expect(identity).toMatchObject({
        givenName: 'Jānis',
        familyName: 'Bērziņš',
        personalCode: '010180-15097',
        country: 'LV',
        loa: 'high',
        amr: ['eidas'],
      });
    },
  );

  test('the level comes from AuthnContextClassRef; the IdP refuses a higher request with NoAuthnContext -> loa_too_low', async () => {
    const h = await make({ binding: 'post', encrypted: true, idpLoa: 'substantial' });
    await expect(login(h, 'substantial')).resolves.toMatchObject({ identity: { loa: 'substantial' } });
    await expect(login(h, 'high')).rejects.toMatchObject({ code: 'loa_too_low' });
  });

  test('the level never exceeds what the provider is configured to deliver', async () => {
    const h = await make({ binding: 'redirect', encrypted: false, idpLoa: 'high', providerLoa: 'substantial' });
    await expect(login(h)).resolves.toMatchObject({ identity: { loa: 'substantial' } });
    await expect(login(h, 'high')).rejects.toMatchObject({ code: 'loa_too_low' });
  });

  test('the AuthnRequest asks for the requested level (RequestedAuthnContext, minimum) and is signed', async () => {
    const h = await make({ binding: 'redirect', encrypted: false });
    const started = await h.adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: h.callbackUrl,
      acr: 'substantial',
      locale: 'en',
      correlationId: 'c',
    });
    if (started.action.type !== 'redirect') throw new Error('expected a redirect');
    const url = new URL(started.action.url);
    expect(url.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
    expect(url.searchParams.get('RelayState')).toBe('S'.repeat(27));
    const { inflateRawSync } = await import('node:zlib');
    const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString();
    expect(xml).toContain('Comparison="minimum"');
    expect(xml).toContain('http://eidas.europa.eu/LoA/substantial');
    expect(xml).toContain(`AssertionConsumerServiceURL="${h.callbackUrl}"`);
    // a tampered query no longer verifies at the IdP
    url.searchParams.set('RelayState', 'T'.repeat(27));
    expect((await fetch(url)).status).toBe(400);
  });

  test('a cancel at the IdP (eIDAS: Responder/RequestDenied, "Citizen consent not given.") is user_cancel', async () => {
    const h = await make({ binding: 'redirect', encrypted: false });
    const err = await login(h, undefined, 'cancel').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).code).toBe('user_cancel');
  });

  test('SP metadata is served per provider with entity ID, ACS URL and both certificates', async () => {
    const h = await make({ binding: 'redirect', encrypted: true });
    const app = express();
    h.adapter.routes(app, '/providers/eidas');
    const res = await request(app).get('/providers/eidas/metadata').expect(200);
    expect(res.headers['content-type']).toMatch(/samlmetadata\+xml/);
    expect(res.text).toContain(`entityID="${h.adapter.spEntityId}"`);
    expect(res.text).toContain(`Location="${h.callbackUrl}"`);
    expect(res.text).toContain('AuthnRequestsSigned="true"');
    expect(res.text).not.toContain('SingleLogoutService');
    const body = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '');
    expect(res.text).toContain(body(h.adapter.certificates.signing));
    expect(res.text).toContain(body(h.adapter.certificates.encryption));
    expect(h.adapter.certificates.signing).not.toBe(h.adapter.certificates.encryption);
  });
});

// What anyone who can start a login may POST to the SAML callback within max_response_bytes: a forged
// Response (bogus signature) carrying tens of thousands of tiny elements or attributes, or deep nesting.
// Each is refused by the structure limits of the XML parse (xml.ts MESSAGE_LIMITS) before any signature
// work, with the limit named in the audit record; the user gets a 400 page with a way back and the
// service access_denied. A real response from the test IdP still passes in the same gateway, and IdP
// metadata (an aggregate of many entities) is not held to the message limits.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { Browser } from '../../test/support/browser.ts';
import { atRp, beginLogin, chooseProvider, exchangeCode, useGateway } from '../../test/support/gateway.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { parseIdpMetadata } from './idp-metadata.ts';
import type { SamlAdapter } from './index.ts';
import { parseForm, startTestIdp, type RunningTestIdp } from './test-idp/index.ts';

let idp: RunningTestIdp;
const gw = useGateway(async ({ dir, cleanup }) => {
  idp = await startTestIdp({
    sp: () => {
      const a = gw.gateway.adapters.get('eidas') as SamlAdapter;
      return {
        entityId: a.spEntityId,
        signingCert: a.certificates.signing,
        encryptionCert: a.certificates.encryption,
        acsUrl: a.metadataAcsUrl,
      };
    },
    encryptAssertions: true,
    loa: 'high',
  });
  cleanup(() => idp.close());
  writeFileSync(join(dir, 'idp.pem'), idp.key.cert);
  return {
    providers: [
      {
        ...SAML_TEST_ENTRY,
        idp: { entity_id: idp.entityId, sso_url: idp.ssoUrl, certificates: [join(dir, 'idp.pem')] },
        binding: 'post',
        require_encrypted_assertion: true,
      },
    ],
  };
});

/** A login that has sent its AuthnRequest: the gateway's auto-submitting form (POST binding) to the IdP. */
async function pending() {
  const started = await beginLogin(gw.rp, {}, new Browser());
  const selection = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  const chosen = await chooseProvider(started.browser, selection.url, 'eidas');
  const form = parseForm((await started.browser.follow(chosen, (h) => h.status === 200)).body);
  const request = Buffer.from(form.fields.SAMLRequest!, 'base64').toString();
  return { ...started, form, requestId: /ID="([^"]+)"/.exec(request)![1]! };
}

const SIGNATURE = `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#_x"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>`;

/** A Response answering this login's request, signed with nothing that verifies, carrying `extra`. */
const forged = (requestId: string, extra: string) =>
  `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x" Version="2.0" IssueInstant="${new Date().toISOString()}" Destination="${gw.issuer}/broker/callback/eidas" InResponseTo="${requestId}"><saml:Issuer>${idp.entityId}</saml:Issuer>${SIGNATURE}<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status><saml:Assertion ID="_a"/>${extra}</samlp:Response>`;

/** POST `xml` as this login's answer: 400, the reason in the audit record, access_denied at the service. */
async function refusedWith(xml: string, reason: string) {
  expect(Buffer.byteLength(xml)).toBeLessThan(256 * 1024); // within the default max_response_bytes
  const login = await pending();
  const page = await login.browser.post(`${gw.issuer}/broker/callback/eidas`, {
    SAMLResponse: Buffer.from(xml.replaceAll('{requestId}', login.requestId)).toString('base64'),
    RelayState: login.form.fields.RelayState!,
  });
  expect(page.status).toBe(400);
  const refused = (gw.audit as MemoryAuditLog).events.filter((e) => e.type === 'verification_error').at(-1)!;
  expect(refused.detail).toEqual({ code: 'invalid_response', reason: `invalid_response: ${reason}` });
  const back = /<a class="button" href="([^"]+)">/.exec(page.body)![1]!;
  const final = await login.browser.follow(await login.browser.get(new URL(back, gw.issuer).toString()), atRp);
  expect(new URL(final.location!).searchParams.get('error')).toBe('access_denied');
}

test('a forged 240 KB Response of 60,000 empty elements is refused by the element limit', async () => {
  await refusedWith(forged('{requestId}', '<x/>'.repeat(60_000)), 'XML structure limit: more than 1000 elements');
});

test('a forged Response of 20,000 attributes on one element is refused by the attribute limit', async () => {
  const attributes = Array.from({ length: 20_000 }, (_, i) => `a${i}="1"`).join(' ');
  await refusedWith(forged('{requestId}', `<x ${attributes}/>`), 'XML structure limit: more than 2000 attributes');
});

test('nesting deeper than 64 is refused by the depth limit, 30,000 deep by the element limit (no RangeError)', async () => {
  const nested = (depth: number) => '<a>'.repeat(depth) + '</a>'.repeat(depth);
  await refusedWith(forged('{requestId}', nested(100)), 'XML structure limit: elements nested more than 64 deep');
  await refusedWith(forged('{requestId}', nested(30_000)), 'XML structure limit: more than 1000 elements');
});

test('a real (signed, encrypted) Response from the test IdP passes in the same gateway', async () => {
  const { browser, form, verifier, state, nonce } = await pending();
  const login = parseForm((await browser.post(form.action, form.fields)).body);
  const answer = await browser.post(login.action, { ...login.fields, user: '0', action: 'login' });
  const final = await browser.follow(answer, atRp);
  const tokens = await exchangeCode(gw.rp, { verifier, state, nonce }, final);
  expect(tokens.claims()!.sub).toBe('PNOLV-010180-15097');
});

test('IdP metadata is not held to the message limits: an aggregate of 500 entities parses', () => {
  const one = idp.metadata({ sign: false }).replace(/^<\?xml[^>]*>/, '');
  const entities = Array.from({ length: 500 }, (_, i) => one.replaceAll(idp.entityId, `${idp.entityId}/${i}`));
  const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${entities.join('')}</md:EntitiesDescriptor>`;
  expect((xml.match(/<[^/!?]/g) ?? []).length).toBeGreaterThan(1000);
  const parsed = parseIdpMetadata(xml, { entityId: `${idp.entityId}/499`, requireValidUntil: false, now: Date.now() });
  expect(parsed.entityId).toBe(`${idp.entityId}/499`);
});

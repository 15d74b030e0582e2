// Attacks on the SAML service-provider side, one test each with a crafted response
// (./test-crafted-responses.ts): an IdP-signed assertion that breaks a rule of the SAML profile, status
// codes, and fresh authentication (the AuthnInstant belongs to this login; ForceAuthn is always asked).
import { join } from 'node:path';
import type { Document, Element } from '@xmldom/xmldom';
import { TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { factory } from './index.ts';
import { NS } from './xml.ts';
import { STATUS, buildResponse, issueResponse, newId } from './test-idp/response-builder.ts';
import { sign } from './test-idp/response-protection.ts';
import { statusError, DEFAULT_CANCEL_MESSAGES } from './status.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import {
  attack,
  useCraftedResponses,
  pendingLogin,
  assertionOf,
  edit,
  refused,
  ACS,
  IDP,
} from './test-crafted-responses.ts';

useCraftedResponses();

describe('an assertion the IdP signed that breaks a rule of the SAML profile is refused', () => {
  const first = (doc: Document, name: string): Element => doc.getElementsByTagNameNS(NS.saml, name)[0]!;
  const past = () => new Date(Date.now() - 5 * 60_000).toISOString();
  test.each([
    [
      'its bearer confirmation expired, though its Conditions have not',
      (doc: Document) => first(doc, 'SubjectConfirmationData').setAttribute('NotOnOrAfter', past()),
      /bearer confirmation has expired/,
    ],
    [
      'only a holder-of-key confirmation (the presenter must prove a key; a bearer answer proves none)',
      (doc: Document) =>
        first(doc, 'SubjectConfirmation').setAttribute('Method', 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key'),
      /no bearer confirmation/,
    ],
    [
      'no AudienceRestriction (an assertion for any service provider)',
      (doc: Document) => first(doc, 'Conditions').removeChild(first(doc, 'AudienceRestriction')),
      /no AudienceRestriction/,
    ],
    [
      'a condition this service provider does not understand (SAML core 2.5.1: its validity is then indeterminate)',
      (doc: Document) => first(doc, 'Conditions').appendChild(doc.createElementNS(NS.saml, 'saml:Condition')),
      /unknown condition Condition/,
    ],
    [
      'the Assertion Issuer is another IdP (the Response names ours)',
      (doc: Document) => {
        assertionOf(doc).getElementsByTagNameNS(NS.saml, 'Issuer')[0]!.textContent = 'https://other-idp.test';
      },
      /Assertion Issuer is not the configured IdP/,
    ],
    [
      'the Response Issuer is another IdP (the Assertion names ours)',
      (doc: Document) => {
        first(doc, 'Issuer').textContent = 'https://other-idp.test';
      },
      /Response Issuer is not the configured IdP/,
    ],
    [
      'the authentication session it vouches for had ended (SessionNotOnOrAfter)',
      (doc: Document) => first(doc, 'AuthnStatement').setAttribute('SessionNotOnOrAfter', past()),
      /authentication session has expired/,
    ],
    [
      'two authentication statements',
      (doc: Document) => assertionOf(doc).appendChild(first(doc, 'AuthnStatement').cloneNode(true)),
      /one AuthnStatement, carries 2/,
    ],
  ] as const)('%s', async (_what, change, reason) => {
    const l = await pendingLogin();
    const changed = edit(buildResponse(l.spec), change);
    await refused(
      l.deliver(sign(sign(changed, 'assertion', attack.idpKey), 'response', attack.idpKey)),
      'invalid_response',
      reason,
    );
  });
});

describe('status codes', () => {
  test.each([
    [
      { code: `${STATUS}Responder`, subCode: `${STATUS}RequestDenied`, message: 'Citizen consent not given.' },
      'user_cancel',
    ],
    [
      { code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'User cancelled the authentication' },
      'user_cancel',
    ],
    [{ code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'PIN blocked' }, 'access_denied'],
    [{ code: `${STATUS}Requester`, subCode: `${STATUS}RequestDenied` }, 'access_denied'],
    [{ code: `${STATUS}Responder`, subCode: `${STATUS}NoAuthnContext` }, 'loa_too_low'],
    [{ code: `${STATUS}Responder` }, 'temporarily_unavailable'],
    [{ code: `${STATUS}Requester`, subCode: `${STATUS}UnsupportedBinding` }, 'temporarily_unavailable'],
  ])('%j -> %s (over a real, unsigned error response)', async (status, code) => {
    const l = await pendingLogin();
    await refused(l.deliver(buildResponse({ ...l.spec, status })), code);
  });

  test('the detail names status codes only, never the IdP free text', () => {
    const err = statusError(
      { code: `${STATUS}Responder`, subCode: `${STATUS}AuthnFailed`, message: 'person 010180-15097 is blocked' },
      DEFAULT_CANCEL_MESSAGES,
    );
    expect(err.detail).not.toContain('010180');
  });

  test('an error status for another request is still refused as such', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(buildResponse({ ...l.spec, inResponseTo: newId(), status: { code: `${STATUS}Responder` } })),
      'invalid_response',
      /InResponseTo/,
    );
  });
});

describe('fresh authentication: AuthnInstant belongs to this login', () => {
  test('the identity carries the AuthnInstant, not the time of our check', async () => {
    const l = await pendingLogin();
    const authnInstant = Date.now() - 20_000; // the IdP's clock a little behind ours, within the skew
    const { identity } = await l.deliver(await issueResponse({ ...l.spec, authnInstant }, { key: attack.idpKey }));
    expect(identity.authTime).toBe(Math.floor(authnInstant / 1000));
  });

  test('an AuthnInstant from before this login started (an IdP that ignored ForceAuthn) is refused', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(
        await issueResponse({ ...l.spec, authnInstant: l.loginStartedAt - 10 * 60_000 }, { key: attack.idpKey }),
      ),
      'invalid_response',
      /AuthnInstant is 600 s before this login started \(allowed 30 s\)/,
    );
  });

  test('an AuthnInstant in the future is refused', async () => {
    const l = await pendingLogin();
    await refused(
      l.deliver(await issueResponse({ ...l.spec, authnInstant: Date.now() + 10 * 60_000 }, { key: attack.idpKey })),
      'invalid_response',
      /AuthnInstant is \d+ s in the future/,
    );
  });

  test('an AuthnStatement without AuthnInstant is refused', async () => {
    const l = await pendingLogin();
    const unsigned = edit(buildResponse(l.spec), (doc) =>
      doc.getElementsByTagNameNS(NS.saml, 'AuthnStatement')[0]!.removeAttribute('AuthnInstant'),
    );
    await refused(l.deliver(sign(unsigned, 'assertion', attack.idpKey)), 'invalid_response', /no AuthnInstant/);
  });

  test('the AuthnRequest always asks for ForceAuthn; configuration cannot switch it off', async () => {
    const started = await attack.adapter.start({
      browser: TEST_BROWSER_DIGEST,
      state: 'S'.repeat(27),
      callbackUrl: ACS,
      locale: 'en',
      correlationId: 'f',
    });
    const url = new URL((started.action as { url: string }).url);
    const { inflateRawSync } = await import('node:zlib');
    expect(inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString()).toMatch(
      /ForceAuthn="true"/,
    );
    expect(
      factory.schema.safeParse({
        ...SAML_TEST_ENTRY,
        idp: { entity_id: IDP, sso_url: 'http://127.0.0.1:9/sso', certificates: [join(attack.dir, 'idp.pem')] },
        force_authn: false,
      }).success,
    ).toBe(false);
  });
});

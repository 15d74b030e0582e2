// Verification of a SAML 2.0 Response delivered by HTTP-POST. saml2-js's post_assert checks too little
// (no InResponseTo, Destination, Recipient or Issuer, audience only when present, any number of
// signatures anywhere, no algorithm or DTD limits), so this module does the whole job on the parsed DOM
// and takes the identity only from bytes a signature covers (xml-crypto getSignedReferences()).
import type { Element } from '@xmldom/xmldom';
import {
  NS,
  XmlError,
  attr,
  children,
  descendants,
  hasComment,
  instant,
  is,
  optionalChild,
  parseStrict,
  requiredAttr,
  requiredChild,
  textOf,
} from './xml.ts';
import { SignatureError, envelopedSignature, verifyEnvelopedSignature } from './signature.ts';
import { DecryptionError, decryptAssertion } from './decrypt.ts';
import type { SamlStatus } from './status.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

export interface ResponseExpectations {
  idpEntityId: string;
  idpCertificates: readonly string[];
  spEntityId: string;
  /** the ACS URL: expected Destination and Recipient */
  acsUrl: string;
  /** ID of the AuthnRequest this login sent: expected InResponseTo */
  requestId: string;
  decryptionKeys: readonly string[];
  requireEncryptedAssertion: boolean;
  skewMs: number;
  maxBytes: number;
  now: number;
}

export interface VerifiedAssertion {
  id: string;
  issuer: string;
  nameId?: string | undefined;
  authnContextClassRef: string;
  /** AuthnStatement/@AuthnInstant (ms): when the IdP authenticated the person */
  authnInstant: number;
  /** earliest NotOnOrAfter of Conditions and the bearer confirmation (ms): how long to remember the ID */
  notOnOrAfter: number;
  /** attribute name -> values; null stands for a value that is not plain text (never mapped) */
  attributes: Map<string, (string | null)[]>;
  /** 'response' or 'assertion' or both: which signature(s) vouched for it */
  signedBy: ('response' | 'assertion')[];
}

export type ResponseOutcome = { ok: true; assertion: VerifiedAssertion } | { ok: false; status: SamlStatus };

/** Anything that makes the response unacceptable; the adapter maps it to `invalid_response`. */
export class ResponseError extends Error {
  override name = 'ResponseError';
}

/** Longest base64 text (line breaks allowed) that can carry maxBytes; the callback field limit too. */
export function base64Limit(maxBytes: number): number {
  return Math.ceil((maxBytes * 4) / 3) + 1024;
}

/** Base64 of the POSTed SAMLResponse -> XML text, within the size limit. */
export function decodeSamlResponse(value: string | undefined, maxBytes: number): string {
  if (!value) throw new ResponseError('callback carries no SAMLResponse');
  if (value.length > base64Limit(maxBytes)) throw new ResponseError('SAMLResponse exceeds the size limit');
  const compact = value.replace(/[\r\n\t ]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0)
    throw new ResponseError('SAMLResponse is not valid base64');
  const bytes = Buffer.from(compact, 'base64');
  if (bytes.length > maxBytes) throw new ResponseError('SAMLResponse exceeds the size limit');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ResponseError('SAMLResponse is not UTF-8');
  }
}

function checkIssuer(parent: Element, expected: string, required: boolean): void {
  const issuer = optionalChild(parent, NS.saml, 'Issuer');
  if (!issuer) {
    if (required) throw new ResponseError(`${parent.localName} has no Issuer`);
    return;
  }
  const format = attr(issuer, 'Format');
  if (format !== undefined && format !== 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity')
    throw new ResponseError('Issuer has an unexpected format');
  if (textOf(issuer) !== expected) throw new ResponseError(`${parent.localName} Issuer is not the configured IdP`);
}

/** Checks on the Response element itself (whether or not it is signed). */
function checkResponseHeader(res: Element, x: ResponseExpectations): void {
  if (!is(res, NS.samlp, 'Response')) throw new ResponseError('document is not a SAML 2.0 Response');
  if (attr(res, 'Version') !== '2.0') throw new ResponseError('Response is not SAML version 2.0');
  requiredAttr(res, 'ID');
  if (instant(res, 'IssueInstant') === undefined) throw new ResponseError('Response has no IssueInstant');
  if (attr(res, 'Destination') !== x.acsUrl) throw new ResponseError('Response Destination is not this ACS URL');
  const inResponseTo = attr(res, 'InResponseTo');
  if (inResponseTo === undefined) throw new ResponseError('unsolicited Response (no InResponseTo) is not accepted');
  if (inResponseTo !== x.requestId)
    throw new ResponseError('Response InResponseTo does not match the request of this login');
  checkIssuer(res, x.idpEntityId, false);
}

function readStatus(res: Element): SamlStatus {
  const status = requiredChild(res, NS.samlp, 'Status');
  const top = requiredChild(status, NS.samlp, 'StatusCode');
  const sub = optionalChild(top, NS.samlp, 'StatusCode');
  const message = optionalChild(status, NS.samlp, 'StatusMessage');
  let text: string | undefined;
  try {
    text = message ? textOf(message) : undefined;
  } catch {
    text = undefined;
  }
  return { code: requiredAttr(top, 'Value'), subCode: sub ? requiredAttr(sub, 'Value') : undefined, message: text };
}

/** The one Assertion or EncryptedAssertion directly under the Response. */
function soleAssertionChild(res: Element): Element {
  const found = [...children(res, NS.saml, 'Assertion'), ...children(res, NS.saml, 'EncryptedAssertion')];
  if (found.length !== 1) throw new ResponseError(`Response must carry exactly one assertion, carries ${found.length}`);
  return found[0]!;
}

/** Every assertion anywhere in the document (Extensions, ds:Object, nested): wrapping needs a second one. */
function countAssertions(root: Element): number {
  return (
    descendants(root, NS.saml, 'Assertion').length +
    descendants(root, NS.saml, 'EncryptedAssertion').length +
    (is(root, NS.saml, 'Assertion') ? 1 : 0)
  );
}

function checkSignaturePlacement(root: Element, allowedParents: Element[]): void {
  for (const sig of descendants(root, NS.ds, 'Signature')) {
    if (!allowedParents.some((p) => sig.parentNode === p))
      throw new ResponseError('a signature sits somewhere a SAML signature cannot be');
  }
}

/** Verify and read the response; failures throw ResponseError (or return the IdP's error status). */
export async function verifySamlResponse(xml: string, x: ResponseExpectations): Promise<ResponseOutcome> {
  try {
    return await verify(xml, x);
  } catch (err) {
    if (err instanceof XmlError || err instanceof SignatureError || err instanceof DecryptionError)
      throw new ResponseError(err.message);
    throw err;
  }
}

async function verify(xml: string, x: ResponseExpectations): Promise<ResponseOutcome> {
  const doc = parseStrict(xml);
  const res = doc.documentElement!;
  checkResponseHeader(res, x);
  const status = readStatus(res);
  if (status.code !== SUCCESS) return { ok: false, status };

  if (countAssertions(res) !== 1)
    throw new ResponseError(`document must carry exactly one assertion, carries ${countAssertions(res)}`);
  const container = soleAssertionChild(res);
  if (hasComment(container)) throw new ResponseError('comments inside the assertion are not accepted');
  checkSignaturePlacement(res, is(container, NS.saml, 'Assertion') ? [res, container] : [res]);

  // 1. The response signature, when there is one: from here on read only what it covers.
  const signedBy: VerifiedAssertion['signedBy'] = [];
  let source = res;
  let sourceXml = xml;
  if (envelopedSignature(res)) {
    sourceXml = verifyEnvelopedSignature(xml, res, x.idpCertificates);
    source = parseStrict(sourceXml).documentElement!;
    checkResponseHeader(source, x);
    if (attr(source, 'ID') !== attr(res, 'ID')) throw new ResponseError('signed bytes are not the Response');
    signedBy.push('response');
  }
  const sourceContainer = soleAssertionChild(source);

  // 2. Decrypt (from the signed bytes when the response is signed), then parse the plaintext strictly.
  let assertion: Element;
  let assertionXml: string;
  if (is(sourceContainer, NS.saml, 'EncryptedAssertion')) {
    assertionXml = await decryptAssertion(sourceContainer, x.decryptionKeys);
    assertion = parseStrict(assertionXml).documentElement!;
    if (!is(assertion, NS.saml, 'Assertion')) throw new ResponseError('decrypted content is not an Assertion');
    if (countAssertions(assertion) !== 1) throw new ResponseError('decrypted assertion carries another assertion');
    if (hasComment(assertion)) throw new ResponseError('comments inside the assertion are not accepted');
    checkSignaturePlacement(assertion, [assertion]);
  } else {
    if (x.requireEncryptedAssertion)
      throw new ResponseError('assertion is not encrypted, but this provider requires encryption');
    assertion = sourceContainer;
    assertionXml = sourceXml;
  }

  // 3. The assertion signature, verified again after any decryption; its signed bytes win.
  if (envelopedSignature(assertion)) {
    const signed = verifyEnvelopedSignature(assertionXml, assertion, x.idpCertificates);
    const signedAssertion = parseStrict(signed).documentElement!;
    if (!is(signedAssertion, NS.saml, 'Assertion') || attr(signedAssertion, 'ID') !== attr(assertion, 'ID'))
      throw new ResponseError('signed bytes are not the Assertion');
    assertion = signedAssertion;
    signedBy.push('assertion');
  }
  if (signedBy.length === 0) throw new ResponseError('neither the Response nor the Assertion is signed');

  return { ok: true, assertion: readAssertion(assertion, x, signedBy) };
}

function checkTimeWindow(el: Element, x: ResponseExpectations, what: string): number | undefined {
  const notBefore = instant(el, 'NotBefore');
  const notOnOrAfter = instant(el, 'NotOnOrAfter');
  if (notBefore !== undefined && x.now + x.skewMs < notBefore) throw new ResponseError(`${what} is not yet valid`);
  if (notOnOrAfter !== undefined && x.now - x.skewMs >= notOnOrAfter) throw new ResponseError(`${what} has expired`);
  return notOnOrAfter;
}

function readAssertion(
  a: Element,
  x: ResponseExpectations,
  signedBy: VerifiedAssertion['signedBy'],
): VerifiedAssertion {
  if (attr(a, 'Version') !== '2.0') throw new ResponseError('Assertion is not SAML version 2.0');
  const id = requiredAttr(a, 'ID');
  if (instant(a, 'IssueInstant') === undefined) throw new ResponseError('Assertion has no IssueInstant');
  checkIssuer(a, x.idpEntityId, true);

  // Subject: a bearer confirmation for this ACS, this request, still valid.
  const subject = requiredChild(a, NS.saml, 'Subject');
  const nameIdEl = optionalChild(subject, NS.saml, 'NameID');
  const bearer = children(subject, NS.saml, 'SubjectConfirmation').filter((c) => attr(c, 'Method') === BEARER);
  if (bearer.length === 0) throw new ResponseError('Subject has no bearer confirmation');
  let confirmationExpiry: number | undefined;
  const problems: string[] = [];
  for (const c of bearer) {
    try {
      const data = requiredChild(c, NS.saml, 'SubjectConfirmationData');
      if (attr(data, 'Recipient') !== x.acsUrl) throw new ResponseError('bearer Recipient is not this ACS URL');
      if (attr(data, 'InResponseTo') !== x.requestId)
        throw new ResponseError('bearer InResponseTo does not match the request of this login');
      if (instant(data, 'NotOnOrAfter') === undefined)
        throw new ResponseError('bearer confirmation has no NotOnOrAfter');
      confirmationExpiry = checkTimeWindow(data, x, 'bearer confirmation');
      break;
    } catch (err) {
      if (!(err instanceof ResponseError || err instanceof XmlError)) throw err;
      problems.push(err.message);
    }
  }
  if (confirmationExpiry === undefined) throw new ResponseError(problems[0] ?? 'no valid bearer confirmation');

  // Conditions: time window and an audience restriction naming us (every restriction must).
  const conditions = requiredChild(a, NS.saml, 'Conditions');
  const conditionsExpiry = checkTimeWindow(conditions, x, 'assertion');
  const restrictions = children(conditions, NS.saml, 'AudienceRestriction');
  if (restrictions.length === 0) throw new ResponseError('assertion has no AudienceRestriction');
  for (const r of restrictions) {
    if (!children(r, NS.saml, 'Audience').some((aud) => textOf(aud) === x.spEntityId))
      throw new ResponseError('assertion audience is not this SP');
  }
  for (let n = conditions.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) continue;
    const el = n as unknown as Element;
    const known =
      el.namespaceURI === NS.saml &&
      ['AudienceRestriction', 'OneTimeUse', 'ProxyRestriction'].includes(el.localName ?? '');
    if (!known) throw new ResponseError(`unknown condition ${el.localName}`);
  }

  // One authentication statement with a class reference (the level of assurance).
  const statements = children(a, NS.saml, 'AuthnStatement');
  if (statements.length !== 1)
    throw new ResponseError(`assertion must carry one AuthnStatement, carries ${statements.length}`);
  // SAML core 2.7.2: AuthnInstant is required; the adapter holds it against the login's start
  const authnInstant = instant(statements[0]!, 'AuthnInstant');
  if (authnInstant === undefined) throw new ResponseError('AuthnStatement has no AuthnInstant');
  const sessionEnd = instant(statements[0]!, 'SessionNotOnOrAfter');
  if (sessionEnd !== undefined && x.now - x.skewMs >= sessionEnd)
    throw new ResponseError('authentication session has expired');
  const classRef = textOf(
    requiredChild(requiredChild(statements[0]!, NS.saml, 'AuthnContext'), NS.saml, 'AuthnContextClassRef'),
  );

  const attributes = new Map<string, (string | null)[]>();
  for (const statement of children(a, NS.saml, 'AttributeStatement')) {
    for (const at of children(statement, NS.saml, 'Attribute')) {
      const name = requiredAttr(at, 'Name');
      const values = children(at, NS.saml, 'AttributeValue').map((v) => {
        try {
          return textOf(v);
        } catch {
          return null; // structured values (addresses and the like) are not mapped
        }
      });
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  }

  return {
    id,
    issuer: x.idpEntityId,
    nameId: nameIdEl ? textOf(nameIdEl) : undefined,
    authnContextClassRef: classRef,
    authnInstant,
    notOnOrAfter: Math.min(confirmationExpiry, conditionsExpiry ?? confirmationExpiry),
    attributes,
    signedBy,
  };
}

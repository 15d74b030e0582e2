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
import { ResponseError, type ResponseExpectations, checkIssueInstant, checkIssuer } from './expectations.ts';
import { type VerifiedAssertion, readAssertion } from './assertion.ts';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

export type ResponseOutcome = { ok: true; assertion: VerifiedAssertion } | { ok: false; status: SamlStatus };

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

/** Checks on the Response element itself (whether or not it is signed). */
function checkResponseHeader(response: Element, expected: ResponseExpectations): void {
  if (!is(response, NS.samlp, 'Response')) throw new ResponseError('document is not a SAML 2.0 Response');
  if (attr(response, 'Version') !== '2.0') throw new ResponseError('Response is not SAML version 2.0');
  requiredAttr(response, 'ID');
  checkIssueInstant(response, expected, 'Response');
  if (attr(response, 'Destination') !== expected.acsUrl)
    throw new ResponseError('Response Destination is not this ACS URL');
  const inResponseTo = attr(response, 'InResponseTo');
  if (inResponseTo === undefined) throw new ResponseError('unsolicited Response (no InResponseTo) is not accepted');
  if (inResponseTo !== expected.requestId)
    throw new ResponseError('Response InResponseTo does not match the request of this login');
  checkIssuer(response, expected.idpEntityId, false);
}

function readStatus(response: Element): SamlStatus {
  const status = requiredChild(response, NS.samlp, 'Status');
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
function soleAssertionChild(response: Element): Element {
  const found = [...children(response, NS.saml, 'Assertion'), ...children(response, NS.saml, 'EncryptedAssertion')];
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
  for (const signature of descendants(root, NS.ds, 'Signature')) {
    if (!allowedParents.some((parent) => signature.parentNode === parent))
      throw new ResponseError('a signature sits somewhere a SAML signature cannot be');
  }
}

/** Verify and read the response; failures throw ResponseError (or return the IdP's error status). */
export async function verifySamlResponse(xml: string, expected: ResponseExpectations): Promise<ResponseOutcome> {
  try {
    return await verify(xml, expected);
  } catch (err) {
    if (err instanceof XmlError || err instanceof SignatureError || err instanceof DecryptionError)
      throw new ResponseError(err.message);
    throw err;
  }
}

async function verify(xml: string, expected: ResponseExpectations): Promise<ResponseOutcome> {
  const doc = parseStrict(xml);
  const response = doc.documentElement!;
  checkResponseHeader(response, expected);
  const status = readStatus(response);
  if (status.code !== SUCCESS) return { ok: false, status };

  if (countAssertions(response) !== 1)
    throw new ResponseError(`document must carry exactly one assertion, carries ${countAssertions(response)}`);
  const container = soleAssertionChild(response);
  if (hasComment(container)) throw new ResponseError('comments inside the assertion are not accepted');
  checkSignaturePlacement(response, is(container, NS.saml, 'Assertion') ? [response, container] : [response]);

  // 1. The response signature, when there is one: from here on read only what it covers.
  const signedBy: VerifiedAssertion['signedBy'] = [];
  let source = response;
  let sourceXml = xml;
  if (envelopedSignature(response)) {
    sourceXml = verifyEnvelopedSignature(xml, response, expected.idpCertificates);
    source = parseStrict(sourceXml).documentElement!;
    checkResponseHeader(source, expected);
    if (attr(source, 'ID') !== attr(response, 'ID')) throw new ResponseError('signed bytes are not the Response');
    signedBy.push('response');
  }
  const sourceContainer = soleAssertionChild(source);

  // 2. Decrypt (from the signed bytes when the response is signed), then parse the plaintext strictly.
  let assertion: Element;
  let assertionXml: string;
  if (is(sourceContainer, NS.saml, 'EncryptedAssertion')) {
    assertionXml = await decryptAssertion(sourceContainer, expected.decryptionKeys);
    assertion = parseStrict(assertionXml).documentElement!;
    if (!is(assertion, NS.saml, 'Assertion')) throw new ResponseError('decrypted content is not an Assertion');
    if (countAssertions(assertion) !== 1) throw new ResponseError('decrypted assertion carries another assertion');
    if (hasComment(assertion)) throw new ResponseError('comments inside the assertion are not accepted');
    checkSignaturePlacement(assertion, [assertion]);
  } else {
    if (expected.requireEncryptedAssertion)
      throw new ResponseError('assertion is not encrypted, but this provider requires encryption');
    assertion = sourceContainer;
    assertionXml = sourceXml;
  }

  // 3. The assertion signature, verified again after any decryption; its signed bytes win.
  if (envelopedSignature(assertion)) {
    const signed = verifyEnvelopedSignature(assertionXml, assertion, expected.idpCertificates);
    const signedAssertion = parseStrict(signed).documentElement!;
    if (!is(signedAssertion, NS.saml, 'Assertion') || attr(signedAssertion, 'ID') !== attr(assertion, 'ID'))
      throw new ResponseError('signed bytes are not the Assertion');
    assertion = signedAssertion;
    signedBy.push('assertion');
  }
  if (signedBy.length === 0) throw new ResponseError('neither the Response nor the Assertion is signed');

  return { ok: true, assertion: readAssertion(assertion, expected, signedBy) };
}

// What a SAML Response must match for this login, and the checks its Response and Assertion share
// (Issuer, validity window).
import type { Element } from '@xmldom/xmldom';
import { NS, attr, instant, optionalChild, textOf } from './xml.ts';

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
  /** when the broker started this login (ms): its AuthnRequest was sent no earlier */
  loginStartedAt: number;
}

/** Anything that makes the response unacceptable; the adapter maps it to `invalid_response`. */
export class ResponseError extends Error {
  override name = 'ResponseError';
}

export function checkIssuer(parent: Element, idpEntityId: string, required: boolean): void {
  const issuer = optionalChild(parent, NS.saml, 'Issuer');
  if (!issuer) {
    if (required) throw new ResponseError(`${parent.localName} has no Issuer`);
    return;
  }
  const format = attr(issuer, 'Format');
  if (format !== undefined && format !== 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity')
    throw new ResponseError('Issuer has an unexpected format');
  if (textOf(issuer) !== idpEntityId) throw new ResponseError(`${parent.localName} Issuer is not the configured IdP`);
}

/** The IssueInstant of the Response or the Assertion (SAML core 3.2.2, 2.3.3: required): issued in answer to
 * this login's AuthnRequest, so neither before the login started nor after now, each beyond the allowed skew
 * (an IdP's instants often have whole seconds: the login's first second counts whole, as for AuthnInstant).
 * A signed response kept from an earlier login, or dated ahead to outlive its checks, is refused. */
export function checkIssueInstant(el: Element, expected: ResponseExpectations, what: string): void {
  const issued = instant(el, 'IssueInstant');
  if (issued === undefined) throw new ResponseError(`${what} has no IssueInstant`);
  const skewS = expected.skewMs / 1000;
  if (issued > expected.now + expected.skewMs)
    throw new ResponseError(
      `${what} IssueInstant is ${Math.round((issued - expected.now) / 1000)} s in the future (allowed clock skew ${skewS} s)`,
    );
  if (issued < Math.floor(expected.loginStartedAt / 1000) * 1000 - expected.skewMs)
    throw new ResponseError(
      `${what} IssueInstant is ${Math.round((expected.loginStartedAt - issued) / 1000)} s before this login started (allowed ${skewS} s)`,
    );
}

/** The NotBefore / NotOnOrAfter window of `el` around now, with the allowed skew; the NotOnOrAfter (ms). */
export function checkTimeWindow(el: Element, expected: ResponseExpectations, what: string): number | undefined {
  const notBefore = instant(el, 'NotBefore');
  const notOnOrAfter = instant(el, 'NotOnOrAfter');
  if (notBefore !== undefined && expected.now + expected.skewMs < notBefore)
    throw new ResponseError(`${what} is not yet valid`);
  if (notOnOrAfter !== undefined && expected.now - expected.skewMs >= notOnOrAfter)
    throw new ResponseError(`${what} has expired`);
  return notOnOrAfter;
}

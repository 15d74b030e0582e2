// The Assertion of a verified SAML Response, read from signed bytes only: its subject confirmation,
// conditions, authentication statement and attributes.
import type { Element } from '@xmldom/xmldom';
import { NS, XmlError, attr, children, instant, optionalChild, requiredAttr, requiredChild, textOf } from './xml.ts';
import {
  ResponseError,
  type ResponseExpectations,
  checkIssueInstant,
  checkIssuer,
  checkTimeWindow,
} from './expectations.ts';

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

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

export function readAssertion(
  assertion: Element,
  expected: ResponseExpectations,
  signedBy: VerifiedAssertion['signedBy'],
): VerifiedAssertion {
  if (attr(assertion, 'Version') !== '2.0') throw new ResponseError('Assertion is not SAML version 2.0');
  const id = requiredAttr(assertion, 'ID');
  checkIssueInstant(assertion, expected, 'Assertion');
  checkIssuer(assertion, expected.idpEntityId, true);

  // Subject: a bearer confirmation for this ACS, this request, still valid.
  const subject = requiredChild(assertion, NS.saml, 'Subject');
  const nameIdEl = optionalChild(subject, NS.saml, 'NameID');
  const bearer = children(subject, NS.saml, 'SubjectConfirmation').filter(
    (confirmation) => attr(confirmation, 'Method') === BEARER,
  );
  if (bearer.length === 0) throw new ResponseError('Subject has no bearer confirmation');
  let confirmationExpiry: number | undefined;
  const problems: string[] = [];
  for (const confirmation of bearer) {
    try {
      const data = requiredChild(confirmation, NS.saml, 'SubjectConfirmationData');
      if (attr(data, 'Recipient') !== expected.acsUrl) throw new ResponseError('bearer Recipient is not this ACS URL');
      if (attr(data, 'InResponseTo') !== expected.requestId)
        throw new ResponseError('bearer InResponseTo does not match the request of this login');
      if (instant(data, 'NotOnOrAfter') === undefined)
        throw new ResponseError('bearer confirmation has no NotOnOrAfter');
      confirmationExpiry = checkTimeWindow(data, expected, 'bearer confirmation');
      break;
    } catch (err) {
      if (!(err instanceof ResponseError || err instanceof XmlError)) throw err;
      problems.push(err.message);
    }
  }
  if (confirmationExpiry === undefined) throw new ResponseError(problems[0] ?? 'no valid bearer confirmation');

  // Conditions: time window and an audience restriction naming us (every restriction must).
  const conditions = requiredChild(assertion, NS.saml, 'Conditions');
  const conditionsExpiry = checkTimeWindow(conditions, expected, 'assertion');
  const restrictions = children(conditions, NS.saml, 'AudienceRestriction');
  if (restrictions.length === 0) throw new ResponseError('assertion has no AudienceRestriction');
  for (const restriction of restrictions) {
    if (!children(restriction, NS.saml, 'Audience').some((audience) => textOf(audience) === expected.spEntityId))
      throw new ResponseError('assertion audience is not this SP');
  }
  for (let node = conditions.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== 1) continue;
    const el = node as unknown as Element;
    const known =
      el.namespaceURI === NS.saml &&
      ['AudienceRestriction', 'OneTimeUse', 'ProxyRestriction'].includes(el.localName ?? '');
    if (!known) throw new ResponseError(`unknown condition ${el.localName}`);
  }

  // One authentication statement with a class reference (the level of assurance).
  const statements = children(assertion, NS.saml, 'AuthnStatement');
  if (statements.length !== 1)
    throw new ResponseError(`assertion must carry one AuthnStatement, carries ${statements.length}`);
  // SAML core 2.7.2: AuthnInstant is required; the adapter holds it against the login's start
  const authnInstant = instant(statements[0]!, 'AuthnInstant');
  if (authnInstant === undefined) throw new ResponseError('AuthnStatement has no AuthnInstant');
  const sessionEnd = instant(statements[0]!, 'SessionNotOnOrAfter');
  if (sessionEnd !== undefined && expected.now - expected.skewMs >= sessionEnd)
    throw new ResponseError('authentication session has expired');
  const classRef = textOf(
    requiredChild(requiredChild(statements[0]!, NS.saml, 'AuthnContext'), NS.saml, 'AuthnContextClassRef'),
  );

  const attributes = new Map<string, (string | null)[]>();
  for (const statement of children(assertion, NS.saml, 'AttributeStatement')) {
    for (const attribute of children(statement, NS.saml, 'Attribute')) {
      const name = requiredAttr(attribute, 'Name');
      const values = children(attribute, NS.saml, 'AttributeValue').map((value) => {
        try {
          return textOf(value);
        } catch {
          return null; // structured values (addresses and the like) are not mapped
        }
      });
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  }

  return {
    id,
    issuer: expected.idpEntityId,
    nameId: nameIdEl ? textOf(nameIdEl) : undefined,
    authnContextClassRef: classRef,
    authnInstant,
    notOnOrAfter: Math.min(confirmationExpiry, conditionsExpiry ?? confirmationExpiry),
    attributes,
    signedBy,
  };
}

// Builds real SAML 2.0 Responses the way an IdP does: DOM-built XML, then signed and encrypted by
// ./response-protection.ts. Used by the test IdP and by tests that craft attack responses.
import { randomBytes } from 'node:crypto';
import { DOMImplementation, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { encryptAssertion, sign } from './response-protection.ts';
import { NS } from '../xml.ts';
import type { KeyPair } from '../keys.ts';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XS = 'http://www.w3.org/2001/XMLSchema';
const XMLNS = 'http://www.w3.org/2000/xmlns/';
export const STATUS = 'urn:oasis:names:tc:SAML:2.0:status:';

export interface ResponseSpec {
  idpEntityId: string;
  spEntityId: string;
  acsUrl: string;
  inResponseTo: string;
  /** default: now */
  now?: number;
  /** Response/@IssueInstant and Assertion/@IssueInstant, ms; default now */
  responseIssueInstant?: number;
  assertionIssueInstant?: number;
  responseId?: string;
  assertionId?: string;
  /** Response Destination; default acsUrl */
  destination?: string;
  /** bearer Recipient; default acsUrl */
  recipient?: string;
  /** Audience; default spEntityId */
  audience?: string;
  /** Conditions window, ms; default now-30s .. now+5min */
  notBefore?: number;
  notOnOrAfter?: number;
  nameId?: string;
  /** AuthnStatement/@AuthnInstant, ms; default now */
  authnInstant?: number;
  classRef?: string;
  attributes?: Record<string, string[]>;
  /** a non-success status: no assertion is issued */
  status?: { code: string; subCode?: string; message?: string };
}

export function newId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

function el(
  doc: Document,
  ns: string,
  qname: string,
  attrs: Record<string, string | undefined> = {},
  ...kids: (Element | string | undefined)[]
): Element {
  const e = doc.createElementNS(ns, qname);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k.startsWith('xmlns:')) e.setAttributeNS(XMLNS, k, v);
    else if (k.startsWith('xsi:')) e.setAttributeNS(XSI, k, v);
    else e.setAttribute(k, v);
  }
  for (const kid of kids) {
    if (kid === undefined) continue;
    e.appendChild(typeof kid === 'string' ? doc.createTextNode(kid) : kid);
  }
  return e;
}

/** An unsigned Response (with one plain Assertion unless `status` says otherwise). */
export function buildResponse(spec: ResponseSpec): string {
  const now = spec.now ?? Date.now();
  const doc = new DOMImplementation().createDocument(NS.samlp, 'samlp:Response', null);
  const res = doc.documentElement!;
  res.setAttributeNS(XMLNS, 'xmlns:saml', NS.saml);
  res.setAttribute('ID', spec.responseId ?? newId());
  res.setAttribute('Version', '2.0');
  res.setAttribute('IssueInstant', iso(spec.responseIssueInstant ?? now));
  res.setAttribute('Destination', spec.destination ?? spec.acsUrl);
  res.setAttribute('InResponseTo', spec.inResponseTo);
  res.appendChild(
    el(doc, NS.saml, 'saml:Issuer', { Format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity' }, spec.idpEntityId),
  );
  const status = spec.status ?? { code: `${STATUS}Success` };
  const code = el(
    doc,
    NS.samlp,
    'samlp:StatusCode',
    { Value: status.code },
    status.subCode ? el(doc, NS.samlp, 'samlp:StatusCode', { Value: status.subCode }) : undefined,
  );
  res.appendChild(
    el(
      doc,
      NS.samlp,
      'samlp:Status',
      {},
      code,
      status.message ? el(doc, NS.samlp, 'samlp:StatusMessage', {}, status.message) : undefined,
    ),
  );
  if (spec.status) return new XMLSerializer().serializeToString(doc);

  const notBefore = spec.notBefore ?? now - 30_000;
  const notOnOrAfter = spec.notOnOrAfter ?? now + 300_000;
  const a = el(doc, NS.saml, 'saml:Assertion', {
    'xmlns:saml': NS.saml,
    'xmlns:xsi': XSI,
    'xmlns:xs': XS,
    ID: spec.assertionId ?? newId(),
    Version: '2.0',
    IssueInstant: iso(spec.assertionIssueInstant ?? now),
  });
  a.appendChild(
    el(doc, NS.saml, 'saml:Issuer', { Format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity' }, spec.idpEntityId),
  );
  a.appendChild(
    el(
      doc,
      NS.saml,
      'saml:Subject',
      {},
      el(
        doc,
        NS.saml,
        'saml:NameID',
        { Format: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' },
        spec.nameId ?? newId(),
      ),
      el(
        doc,
        NS.saml,
        'saml:SubjectConfirmation',
        { Method: 'urn:oasis:names:tc:SAML:2.0:cm:bearer' },
        el(doc, NS.saml, 'saml:SubjectConfirmationData', {
          InResponseTo: spec.inResponseTo,
          NotOnOrAfter: iso(notOnOrAfter),
          Recipient: spec.recipient ?? spec.acsUrl,
        }),
      ),
    ),
  );
  a.appendChild(
    el(
      doc,
      NS.saml,
      'saml:Conditions',
      { NotBefore: iso(notBefore), NotOnOrAfter: iso(notOnOrAfter) },
      el(
        doc,
        NS.saml,
        'saml:AudienceRestriction',
        {},
        el(doc, NS.saml, 'saml:Audience', {}, spec.audience ?? spec.spEntityId),
      ),
    ),
  );
  a.appendChild(
    el(
      doc,
      NS.saml,
      'saml:AuthnStatement',
      { AuthnInstant: iso(spec.authnInstant ?? now), SessionIndex: newId() },
      el(
        doc,
        NS.saml,
        'saml:AuthnContext',
        {},
        el(doc, NS.saml, 'saml:AuthnContextClassRef', {}, spec.classRef ?? 'http://eidas.europa.eu/LoA/substantial'),
      ),
    ),
  );
  const statement = el(doc, NS.saml, 'saml:AttributeStatement');
  for (const [name, values] of Object.entries(spec.attributes ?? {})) {
    const at = el(doc, NS.saml, 'saml:Attribute', {
      Name: name,
      NameFormat: 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    });
    for (const v of values) at.appendChild(el(doc, NS.saml, 'saml:AttributeValue', { 'xsi:type': 'xs:string' }, v));
    statement.appendChild(at);
  }
  a.appendChild(statement);
  res.appendChild(a);
  return new XMLSerializer().serializeToString(doc);
}

export interface IssueOptions {
  key: KeyPair;
  signAssertion?: boolean;
  signResponse?: boolean;
  /** SP encryption certificate: encrypt the assertion */
  encryptFor?: string | undefined;
}

/** The whole IdP pipeline: build, sign the assertion, encrypt, sign the response. Returns XML. */
export async function issueResponse(spec: ResponseSpec, o: IssueOptions): Promise<string> {
  let xml = buildResponse(spec);
  if (!spec.status && (o.signAssertion ?? true)) xml = sign(xml, 'assertion', o.key);
  if (!spec.status && o.encryptFor) xml = await encryptAssertion(xml, o.encryptFor);
  if (o.signResponse ?? true) xml = sign(xml, 'response', o.key);
  return xml;
}

// eIDAS request extensions (eIDAS SAML Message Format v1.2, section 2.2): an eIDAS node refuses an
// AuthnRequest that does not say whether the requester is a public or private sector service
// (`eidas:SPType`) and which attributes it needs (`eidas:RequestedAttributes`). They travel in the
// request's `samlp:Extensions`, which is inside what the SP signs for either binding.
import { z } from 'zod';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { EIDAS_NATURAL_PERSON, type AttributeMapping } from './attributes.ts';
import { NS, XmlError, attr, children, isElement, optionalChild, requiredAttr, textOf } from './xml.ts';

export const EIDAS_EXTENSIONS_NS = 'http://eidas.europa.eu/saml-extensions';
export const ATTRNAME_FORMAT_URI = 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri';

export interface RequestedAttribute {
  name: string;
  friendlyName?: string | undefined;
  required: boolean;
}

export interface EidasExtensions {
  spType: 'public' | 'private';
  requestedAttributes: RequestedAttribute[];
}

/** The natural-person minimum data set; the first three are mandatory (eIDAS SAML Attribute Profile 2.2). */
export const NATURAL_PERSON_MINIMUM: readonly RequestedAttribute[] = [
  { name: `${EIDAS_NATURAL_PERSON}PersonIdentifier`, friendlyName: 'PersonIdentifier', required: true },
  { name: `${EIDAS_NATURAL_PERSON}CurrentFamilyName`, friendlyName: 'FamilyName', required: true },
  { name: `${EIDAS_NATURAL_PERSON}CurrentGivenName`, friendlyName: 'FirstName', required: true },
  { name: `${EIDAS_NATURAL_PERSON}DateOfBirth`, friendlyName: 'DateOfBirth', required: false },
];

/** `eidas_extensions` in a provider entry: `false`, or the extensions (every field has a default). */
export const eidasExtensionsSchema = z.union([
  z.literal(false),
  z.strictObject({
    sp_type: z.enum(['public', 'private']).default('public'),
    /** default: the natural-person minimum data set */
    requested_attributes: z
      .array(
        z.strictObject({
          name: z.string().min(1),
          friendly_name: z.string().min(1).optional(),
          required: z.boolean().default(false),
        }),
      )
      .min(1)
      .optional(),
  }),
]);
export type EidasExtensionsConfig = z.infer<typeof eidasExtensionsSchema>;

/** The mapping reads eIDAS natural-person attributes (the `eidas` preset, or an explicit one with its names). */
export function readsEidasAttributes(mapping: AttributeMapping): boolean {
  return mapping.personal_code.name === `${EIDAS_NATURAL_PERSON}PersonIdentifier`;
}

/** What a provider sends: as configured, else on exactly when the mapping reads eIDAS attributes. */
export function resolveEidasExtensions(
  config: EidasExtensionsConfig | undefined,
  mapping: AttributeMapping,
): EidasExtensions | undefined {
  if (config === false) return undefined;
  if (config === undefined && !readsEidasAttributes(mapping)) return undefined;
  return {
    spType: config?.sp_type ?? 'public',
    requestedAttributes: config?.requested_attributes?.map((a) => ({
      name: a.name,
      friendlyName: a.friendly_name,
      required: a.required,
    })) ?? [...NATURAL_PERSON_MINIMUM],
  };
}

/** Mapped attributes the extensions do not request as required (an eIDAS node would not release them reliably). */
export function unrequestedMappedAttributes(ext: EidasExtensions, mapping: AttributeMapping): string[] {
  const required = new Set(ext.requestedAttributes.filter((a) => a.required).map((a) => a.name));
  return [mapping.personal_code.name, mapping.family_name, mapping.given_name].filter((n) => !required.has(n));
}

/** Insert `samlp:Extensions` into our own (trusted) unsigned AuthnRequest, after Issuer as the schema orders it. */
export function addEidasExtensions(xml: string, ext: EidasExtensions): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  const req = doc.documentElement;
  if (!req) throw new Error('AuthnRequest has no root element');
  const issuer = optionalChild(req, NS.saml, 'Issuer');
  if (!issuer) throw new Error('AuthnRequest has no Issuer');
  const extensions = doc.createElementNS(NS.samlp, 'samlp:Extensions');
  // declared once here rather than on every eidas element
  extensions.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:eidas', EIDAS_EXTENSIONS_NS);
  const spType = doc.createElementNS(EIDAS_EXTENSIONS_NS, 'eidas:SPType');
  spType.appendChild(doc.createTextNode(ext.spType));
  extensions.appendChild(spType);
  const list = doc.createElementNS(EIDAS_EXTENSIONS_NS, 'eidas:RequestedAttributes');
  for (const a of ext.requestedAttributes) {
    const el = doc.createElementNS(EIDAS_EXTENSIONS_NS, 'eidas:RequestedAttribute');
    if (a.friendlyName) el.setAttribute('FriendlyName', a.friendlyName);
    el.setAttribute('Name', a.name);
    el.setAttribute('NameFormat', ATTRNAME_FORMAT_URI);
    el.setAttribute('isRequired', String(a.required));
    list.appendChild(el);
  }
  extensions.appendChild(list);
  req.insertBefore(extensions, issuer.nextSibling);
  return new XMLSerializer().serializeToString(doc);
}

/**
 * Read the eIDAS extensions of a parsed AuthnRequest strictly, as a node would (the test IdP uses it):
 * undefined when the request has no Extensions; XmlError when they are malformed.
 */
export function readEidasExtensions(req: Element): EidasExtensions | undefined {
  const extensions = optionalChild(req, NS.samlp, 'Extensions');
  if (!extensions) return undefined;
  const spTypeEl = optionalChild(extensions, EIDAS_EXTENSIONS_NS, 'SPType');
  if (!spTypeEl) throw new XmlError('Extensions lack eidas:SPType');
  const spType = textOf(spTypeEl);
  if (spType !== 'public' && spType !== 'private') throw new XmlError('eidas:SPType must be public or private');
  const list = optionalChild(extensions, EIDAS_EXTENSIONS_NS, 'RequestedAttributes');
  if (!list) throw new XmlError('Extensions lack eidas:RequestedAttributes');
  const requestedAttributes: RequestedAttribute[] = [];
  for (let n = list.firstChild; n; n = n.nextSibling) {
    if (!isElement(n)) continue;
    if (n.namespaceURI !== EIDAS_EXTENSIONS_NS || n.localName !== 'RequestedAttribute')
      throw new XmlError(`unexpected ${n.localName} in eidas:RequestedAttributes`);
    if (attr(n, 'NameFormat') !== ATTRNAME_FORMAT_URI)
      throw new XmlError('eidas:RequestedAttribute must use the URI name format');
    const required = attr(n, 'isRequired') ?? 'false';
    if (required !== 'true' && required !== 'false')
      throw new XmlError('eidas:RequestedAttribute@isRequired must be true or false');
    requestedAttributes.push({
      name: requiredAttr(n, 'Name'),
      friendlyName: attr(n, 'FriendlyName'),
      required: required === 'true',
    });
  }
  if (!requestedAttributes.length) throw new XmlError('eidas:RequestedAttributes is empty');
  if (children(list, EIDAS_EXTENSIONS_NS, 'RequestedAttribute').length !== requestedAttributes.length)
    throw new XmlError('malformed eidas:RequestedAttributes');
  return { spType, requestedAttributes };
}

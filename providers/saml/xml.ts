// Strict XML handling for untrusted SAML messages: bounded size and structure, no DTD (so no entities, no
// XXE), any parser warning is fatal, and small namespace-aware helpers that never fall back to local names.
import { DOMParser, XMLSerializer, type Document, type Element, type Node } from '@xmldom/xmldom';

export const NS = {
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xenc: 'http://www.w3.org/2001/04/xmlenc#',
} as const;

/** Anything wrong with the XML itself; the adapter turns it into `invalid_response`. */
export class XmlError extends Error {
  override name = 'XmlError';
}

const ELEMENT_NODE = 1;
const COMMENT_NODE = 8;
const DOCUMENT_TYPE_NODE = 10;
const ENTITY_REFERENCE_NODE = 5;
const PROCESSING_INSTRUCTION_NODE = 7;

/** How much structure a document may have. */
export interface XmlLimits {
  maxElements: number;
  /** attributes and namespace declarations, over all elements */
  maxAttributes: number;
  maxDepth: number;
}

/**
 * The limits of a SAML message, whose real instances (eIDAS ones included) have one or two hundred
 * elements. Every whole-document pass costs per node, and xml-crypto makes several (XPath ID lookups) per
 * configured certificate before it looks at the SignatureValue, so a forged response of tiny elements or
 * attributes within max_response_bytes would hold the event loop for seconds; deep nesting would
 * overflow the recursive passes (C14N, the comment search).
 */
export const MESSAGE_LIMITS: XmlLimits = { maxElements: 1000, maxAttributes: 2000, maxDepth: 64 };

/** Parse untrusted XML within `limits`. Refuses DTDs (and so entity declarations) before and after parsing. */
export function parseStrict(xml: string, limits: XmlLimits = MESSAGE_LIMITS): Document {
  // A DTD has no business in a SAML message; refuse it textually so no parser ever sees one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml))
    throw new XmlError('DTDs and entity declarations are not allowed');
  countMarkup(xml, limits);
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        throw new XmlError(`XML ${level}: ${msg.split('\n')[0]}`);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (err) {
    throw err instanceof XmlError ? err : new XmlError(`malformed XML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc.documentElement) throw new XmlError('XML has no root element');
  for (let n = doc.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === DOCUMENT_TYPE_NODE) throw new XmlError('DTDs are not allowed');
    // xmldom keeps the XML declaration as a processing instruction named `xml`; nothing else is allowed
    if (n.nodeType === PROCESSING_INSTRUCTION_NODE && n.nodeName !== 'xml')
      throw new XmlError('processing instructions are not allowed');
  }
  checkTree(doc.documentElement, limits.maxDepth);
  return doc;
}

const tooMany = (what: string, max: number) => new XmlError(`XML structure limit: more than ${max} ${what}`);

/** Counted in the text, so an oversized tree is never built: every element has a start tag (`<` and a
 * name), every attribute `=` and a quote. A `<` or `="` in text or a comment counts too, which only errs on
 * the side of refusing. */
const MARKUP = [
  { what: 'elements', pattern: '<[^/!?]', limit: 'maxElements' },
  { what: 'attributes', pattern: '=\\s*["\']', limit: 'maxAttributes' },
] as const;

function countMarkup(xml: string, limits: XmlLimits): void {
  for (const { what, pattern, limit } of MARKUP) {
    const max = limits[limit];
    // metadata bounds no count (an aggregate's size is max_metadata_bytes's): nothing to scan for
    if (max === Number.POSITIVE_INFINITY) continue;
    const re = new RegExp(pattern, 'g');
    for (let count = 0; re.exec(xml); ) if (++count > max) throw tooMany(what, max);
  }
}

/** Depth and no entity references, without recursion (the depth is untrusted). */
function checkTree(root: Element, maxDepth: number): void {
  const stack: [Element, number][] = [[root, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [el, depth] = item;
    if (depth > maxDepth) throw new XmlError(`XML structure limit: elements nested more than ${maxDepth} deep`);
    for (let n = el.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === ENTITY_REFERENCE_NODE) throw new XmlError('entity references are not allowed');
      if (isElement(n)) stack.push([n, depth + 1]);
    }
  }
}

export function isElement(node: Node | null | undefined): node is Element {
  return !!node && node.nodeType === ELEMENT_NODE;
}

export function is(el: Element, ns: string, localName: string): boolean {
  return el.namespaceURI === ns && el.localName === localName;
}

/** Element children with the given namespace and local name (direct children only). */
export function children(parent: Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (isElement(n) && is(n, ns, localName)) out.push(n);
  return out;
}

/** The one direct child, or undefined when absent; more than one is an error. */
export function optionalChild(parent: Element, ns: string, localName: string): Element | undefined {
  const found = children(parent, ns, localName);
  if (found.length > 1) throw new XmlError(`more than one ${localName} in ${parent.localName}`);
  return found[0];
}

export function requiredChild(parent: Element, ns: string, localName: string): Element {
  const el = optionalChild(parent, ns, localName);
  if (!el) throw new XmlError(`${parent.localName} lacks ${localName}`);
  return el;
}

/** All descendants (any depth) with the given namespace and local name. */
export function descendants(root: Element | Document, ns: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, localName));
}

/** Text of an element that may hold only text: comments or child elements inside are refused, because a
 * comment splits the text node and lets a parser that reads only the first one see another value. */
export function textOf(el: Element): string {
  let text = '';
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) text += (n as unknown as { data: string }).data;
    else if (n.nodeType === COMMENT_NODE) throw new XmlError(`comment inside ${el.localName}`);
    else throw new XmlError(`unexpected markup inside ${el.localName}`);
  }
  return text.trim();
}

export function attr(el: Element, name: string): string | undefined {
  return el.hasAttribute(name) ? (el.getAttribute(name) ?? undefined) : undefined;
}

export function requiredAttr(el: Element, name: string): string {
  const v = attr(el, name);
  if (v === undefined || v === '') throw new XmlError(`${el.localName} lacks the ${name} attribute`);
  return v;
}

/** Any comment anywhere below `el`. */
export function hasComment(el: Node): boolean {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === COMMENT_NODE) return true;
    if (n.nodeType === ELEMENT_NODE && hasComment(n)) return true;
  }
  return false;
}

export function serialize(node: Node): string {
  return new XMLSerializer().serializeToString(node);
}

/** SAML xs:dateTime (always UTC in practice); undefined when absent, XmlError when unparseable. */
export function instant(el: Element, name: string): number | undefined {
  const v = attr(el, name);
  if (v === undefined) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v))
    throw new XmlError(`${el.localName}@${name} is not a valid instant`);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new XmlError(`${el.localName}@${name} is not a valid instant`);
  return t;
}

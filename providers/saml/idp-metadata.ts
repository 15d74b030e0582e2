// The IdP's entity ID, SSO locations and signing certificates read from SAML metadata (a file, or a URL
// fetched over the provider's own transport), verified before use: parsed strictly (no DTD), its
// enveloped signature checked against the configured metadata signing certificates when given (and then
// read only from the signed bytes), and refused once any validUntil on the way to the IdP has passed.
import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { SignatureError, verifyEnvelopedSignature } from './signature.ts';
import { NS, XmlError, type XmlLimits, attr, children, instant, parseStrict, requiredAttr, textOf } from './xml.ts';

export const BINDING = {
  redirect: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
  post: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
} as const;
const SAML2_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
/** An aggregate may describe thousands of entities: only max_metadata_bytes bounds its size (it is the
 * operator's file or comes over the back channel), depth is bounded for the recursive passes. */
const METADATA_LIMITS: XmlLimits = {
  maxElements: Number.POSITIVE_INFINITY,
  maxAttributes: Number.POSITIVE_INFINITY,
  maxDepth: 64,
};

/** What the adapter needs to know about its IdP, wherever it came from. */
export interface IdpDescription {
  entityId: string;
  /** SingleSignOnService location per binding */
  ssoUrls: Partial<Record<keyof typeof BINDING, string>>;
  /** PEM signing certificates */
  certificates: string[];
  /** earliest validUntil that applies (ms), when the metadata has one */
  validUntil?: number | undefined;
}

export class MetadataError extends Error {
  override name = 'MetadataError';
}

export interface MetadataOptions {
  /** pick (and pin) this entity; required when the metadata describes more than one IdP */
  entityId?: string | undefined;
  /** when given, the metadata must carry an enveloped signature that verifies with one of them */
  signingCertificates?: readonly string[] | undefined;
  /** refuse metadata without any validUntil */
  requireValidUntil: boolean;
  now: number;
  maxBytes?: number;
}

function pemOf(base64: string): string {
  const body = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new MetadataError('X509Certificate is not base64');
  return `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Signing certificates: KeyDescriptors with use="signing" or without a use. */
function signingCertificates(idp: Element): string[] {
  const out: string[] = [];
  for (const kd of children(idp, NS.md, 'KeyDescriptor')) {
    const use = attr(kd, 'use');
    if (use !== undefined && use !== 'signing') continue;
    for (const ki of children(kd, NS.ds, 'KeyInfo')) {
      for (const data of children(ki, NS.ds, 'X509Data')) {
        for (const c of children(data, NS.ds, 'X509Certificate')) {
          const pem = pemOf(textOf(c));
          try {
            new X509Certificate(pem);
          } catch {
            throw new MetadataError('a signing certificate in the metadata does not parse');
          }
          out.push(pem);
        }
      }
    }
  }
  return out;
}

function idpDescriptor(entity: Element): Element | undefined {
  return children(entity, NS.md, 'IDPSSODescriptor').find((descriptor) =>
    (attr(descriptor, 'protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAML2_PROTOCOL),
  );
}

/** Every EntityDescriptor in the document with the EntitiesDescriptors around it (outermost first). */
function entities(root: Element): { entity: Element; parents: Element[] }[] {
  if (root.namespaceURI === NS.md && root.localName === 'EntityDescriptor') return [{ entity: root, parents: [] }];
  if (root.namespaceURI !== NS.md || root.localName !== 'EntitiesDescriptor')
    throw new MetadataError('metadata root is neither EntityDescriptor nor EntitiesDescriptor');
  const out: { entity: Element; parents: Element[] }[] = [];
  const walk = (group: Element, parents: Element[]) => {
    for (const entity of children(group, NS.md, 'EntityDescriptor')) out.push({ entity, parents: [...parents, group] });
    for (const g of children(group, NS.md, 'EntitiesDescriptor')) walk(g, [...parents, group]);
  };
  walk(root, []);
  return out;
}

/** Parse and verify IdP metadata; throws MetadataError saying what is wrong (never echoing the document). */
export function parseIdpMetadata(xml: string, options: MetadataOptions): IdpDescription {
  const maxBytes = options.maxBytes ?? 5 * 1024 * 1024;
  if (Buffer.byteLength(xml, 'utf8') > maxBytes) throw new MetadataError(`metadata larger than ${maxBytes} bytes`);
  let root: Element;
  try {
    root = parseStrict(xml, METADATA_LIMITS).documentElement!;
    if (options.signingCertificates) {
      // From here on only the signed bytes count: whatever else the document holds is ignored.
      const signed = verifyEnvelopedSignature(xml, root, options.signingCertificates);
      root = parseStrict(signed, METADATA_LIMITS).documentElement!;
    }
  } catch (err) {
    if (err instanceof XmlError || err instanceof SignatureError)
      throw new MetadataError(`metadata refused: ${err.message}`);
    throw err;
  }

  const candidates = entities(root).filter(({ entity }) => idpDescriptor(entity));
  const chosen = options.entityId
    ? candidates.filter(({ entity }) => attr(entity, 'entityID') === options.entityId)
    : candidates;
  if (chosen.length === 0)
    throw new MetadataError(
      options.entityId
        ? 'metadata describes no SAML 2.0 IdP with the configured entity_id'
        : 'metadata describes no SAML 2.0 IdP',
    );
  if (chosen.length > 1)
    throw new MetadataError(
      options.entityId
        ? 'metadata describes the configured entity_id more than once'
        : 'metadata describes several IdPs: set idp.entity_id to pick one',
    );
  const { entity, parents } = chosen[0]!;
  const idp = idpDescriptor(entity)!;

  let validUntil: number | undefined;
  try {
    for (const el of [...parents, entity, idp]) {
      const t = instant(el, 'validUntil');
      if (t !== undefined && (validUntil === undefined || t < validUntil)) validUntil = t;
    }
  } catch (err) {
    if (err instanceof XmlError) throw new MetadataError(err.message);
    throw err;
  }
  if (validUntil === undefined && options.requireValidUntil) throw new MetadataError('metadata has no validUntil');
  if (validUntil !== undefined && validUntil <= options.now)
    throw new MetadataError(`metadata expired (validUntil ${new Date(validUntil).toISOString()})`);

  const entityId = requiredAttr(entity, 'entityID');
  const ssoUrls: IdpDescription['ssoUrls'] = {};
  for (const s of children(idp, NS.md, 'SingleSignOnService')) {
    const binding = (Object.keys(BINDING) as (keyof typeof BINDING)[]).find((b) => BINDING[b] === attr(s, 'Binding'));
    if (!binding || ssoUrls[binding]) continue;
    const location = attr(s, 'Location') ?? '';
    if (!/^https?:\/\/[^\s]+$/.test(location))
      throw new MetadataError('a SingleSignOnService Location is not an http(s) URL');
    ssoUrls[binding] = location;
  }
  const certificates = signingCertificates(idp);
  if (!certificates.length) throw new MetadataError('IDPSSODescriptor has no signing certificate');
  return { entityId, ssoUrls, certificates, validUntil };
}

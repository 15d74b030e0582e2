// Strong algorithms in what a provider publishes (VPM joining conditions, security level 1): the keys of
// a JWKS (RFC 7517), an OpenID Provider's discovery document (OpenID Connect Discovery 1.0 §3) and SAML
// 2.0 IdP metadata (its signing certificates and its own XML signature). Each returns the problems
// found, in words an operator can hand to the provider.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { MIN_RSA_BITS } from '../../tls/material-checks.ts';

const NS_MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const NS_DS = 'http://www.w3.org/2000/09/xmldsig#';
/** EC curves of at least 256 bits that JOSE (RFC 7518 §6.2.1.1) and XML-DSig use */
const STRONG_CURVES = new Set(['P-256', 'P-384', 'P-521', 'prime256v1', 'secp384r1', 'secp521r1']);
/** `none` (unsigned) and HS* (a secret shared with every relying party) cannot authenticate a provider */
const WEAK_JOSE_ALG = /^(none|HS\d+)$/i;
const WEAK_XML_ALG = /(sha1|md5)$/i;

type Jwk = Record<string, unknown>;

function rsaBits(jwk: Jwk): number | undefined {
  try {
    return createPublicKey({ key: jwk as never, format: 'jwk' }).asymmetricKeyDetails?.modulusLength;
  } catch {
    return undefined;
  }
}

export function jwksProblems(document: unknown): string[] {
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) return ['publishes no keys'];
  const problems: string[] = [];
  keys.forEach((key: Jwk, i) => {
    const name = `key ${typeof key.kid === 'string' ? key.kid : i}`;
    if (typeof key.alg === 'string' && WEAK_JOSE_ALG.test(key.alg)) problems.push(`${name} is for ${key.alg}`);
    if (key.kty === 'oct') problems.push(`${name} is a symmetric (oct) key`);
    else if (key.kty === 'RSA') {
      const bits = rsaBits(key);
      if (bits === undefined) problems.push(`${name} is not a valid RSA key`);
      else if (bits < MIN_RSA_BITS) problems.push(`${name} is RSA of ${bits} bits (at least ${MIN_RSA_BITS})`);
    } else if (key.kty === 'EC') {
      if (!STRONG_CURVES.has(String(key.crv)))
        problems.push(`${name} is on curve ${String(key.crv)} (P-256 or stronger)`);
    } else if (key.kty !== 'OKP') problems.push(`${name} has key type ${String(key.kty)}`);
  });
  return problems;
}

export function discoveryProblems(document: Record<string, unknown>): string[] {
  const algs = document.id_token_signing_alg_values_supported;
  if (!Array.isArray(algs)) return ['id_token_signing_alg_values_supported is missing'];
  const weak = algs.filter((alg) => typeof alg !== 'string' || WEAK_JOSE_ALG.test(alg));
  return weak.length ? [`id_token_signing_alg_values_supported offers ${weak.join(', ')}`] : [];
}

function certificateProblems(base64: string, name: string): string[] {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(base64.replace(/\s+/g, ''), 'base64'));
  } catch {
    return [`${name} is not a valid X.509 certificate`];
  }
  const problems: string[] = [];
  const details = cert.publicKey.asymmetricKeyDetails;
  const type = cert.publicKey.asymmetricKeyType ?? '';
  if (type.startsWith('rsa') && (details?.modulusLength ?? 0) < MIN_RSA_BITS)
    problems.push(`${name} has an RSA key of ${details?.modulusLength} bits (at least ${MIN_RSA_BITS})`);
  if (type === 'ec' && !STRONG_CURVES.has(String(details?.namedCurve)))
    problems.push(`${name} is on curve ${String(details?.namedCurve)}`);
  // a pinned metadata certificate is trusted as a key, but a SHA-1 signature on it is a weak algorithm the
  // provider still issues with
  const algorithm = (cert as X509Certificate & { signatureAlgorithm?: string }).signatureAlgorithm ?? '';
  if (/sha1|md5/i.test(algorithm)) problems.push(`${name} is signed with ${algorithm}`);
  if (Date.parse(cert.validTo) < Date.now()) problems.push(`${name} expired ${cert.validTo}`);
  return problems;
}

function descendants(root: Element, ns: string, local: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>);
}

/** Whether the text is SAML metadata (an EntityDescriptor or EntitiesDescriptor). */
export function parseSamlMetadata(text: string): Element | undefined {
  if (!/^\s*(<\?xml[^>]*\?>\s*)?</.test(text) || /<!DOCTYPE/i.test(text)) return undefined;
  try {
    const root = new DOMParser({ onError: () => {} }).parseFromString(text, 'text/xml').documentElement;
    if (root?.namespaceURI !== NS_MD) return undefined;
    return ['EntityDescriptor', 'EntitiesDescriptor'].includes(root.localName ?? '') ? (root as Element) : undefined;
  } catch {
    return undefined;
  }
}

/** The SingleSignOnService locations of the IdPs the metadata describes: where browsers are sent. */
export function samlSsoLocations(root: Element): string[] {
  return descendants(root, NS_MD, 'IDPSSODescriptor')
    .flatMap((idp) => descendants(idp, NS_MD, 'SingleSignOnService'))
    .map((service) => service.getAttribute('Location') ?? '')
    .filter((location) => /^https?:\/\//.test(location));
}

export function samlMetadataProblems(root: Element): string[] {
  const problems: string[] = [];
  const signing = descendants(root, NS_MD, 'IDPSSODescriptor').flatMap((idp) =>
    descendants(idp, NS_MD, 'KeyDescriptor').filter((kd) => kd.getAttribute('use') !== 'encryption'),
  );
  const certs = signing.flatMap((kd) => descendants(kd, NS_DS, 'X509Certificate'));
  if (!certs.length) problems.push('names no IdP signing certificate');
  certs.forEach((cert, i) => {
    problems.push(...certificateProblems(cert.textContent ?? '', `signing certificate ${i + 1}`));
  });
  const signature = Array.from(root.childNodes as unknown as ArrayLike<Element>).find(
    (n) => n.namespaceURI === NS_DS && n.localName === 'Signature',
  );
  if (!signature) problems.push('the metadata is not signed');
  else
    for (const [local, what] of [
      ['SignatureMethod', 'signed with'],
      ['DigestMethod', 'digested with'],
    ] as const)
      for (const method of descendants(signature, NS_DS, local)) {
        const algorithm = method.getAttribute('Algorithm') ?? '';
        if (WEAK_XML_ALG.test(algorithm)) problems.push(`the metadata is ${what} ${algorithm}`);
      }
  return problems;
}

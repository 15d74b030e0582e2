// The IdP's reading of an SP's AuthnRequest: the signature first (HTTP-Redirect query signature or
// HTTP-POST enveloped signature, with the trusted SP's certificate), then the request itself as an
// eIDAS node checks it: Destination, Issuer, ACS URL, requested level and the eIDAS extensions.
import { verify as cryptoVerify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { Request } from 'express';
import { parseLoa, type Loa } from '../../../src/identity/loa.ts';
import { EIDAS_NATURAL_PERSON } from '../attributes.ts';
import { readEidasExtensions, type RequestedAttribute } from '../eidas.ts';
import { RSA_SHA256, redirectSignedQuery } from '../request.ts';
import { verifyEnvelopedSignature } from '../signature.ts';
import { NS, attr, children, optionalChild, parseStrict, requiredAttr, requiredChild, textOf } from '../xml.ts';
import type { TrustedSp } from './options.ts';

/** A verified AuthnRequest waiting for the person (or answered from their session). */
export interface Pending {
  requestId: string;
  acsUrl: string;
  relayState: string | undefined;
  minimumLoa: Loa | undefined;
  /** eIDAS RequestedAttributes, when the request carried them */
  requested: RequestedAttribute[] | undefined;
  forceAuthn: boolean;
  expires: number;
}

class RequestRefused extends Error {}

/** what this IdP can release, by eIDAS attribute name */
const releasable = new Set(
  ['PersonIdentifier', 'CurrentFamilyName', 'CurrentGivenName', 'DateOfBirth'].map(
    (n) => `${EIDAS_NATURAL_PERSON}${n}`,
  ),
);

export type RequestReader = (req: Request) => Promise<Pending>;

export function authnRequestReaders({
  ssoUrl,
  sp,
  requireEidas,
}: {
  ssoUrl: string;
  /** the trusted SP, found at request time */
  sp: () => Promise<TrustedSp>;
  /** refuse requests without the eIDAS extensions */
  requireEidas: boolean;
}): { fromRedirect: RequestReader; fromPost: RequestReader } {
  /** Parse and check an AuthnRequest whose signature was already verified. */
  async function readAuthnRequest(xml: string, relayState: string | undefined): Promise<Pending> {
    const trusted = await sp();
    const req = parseStrict(xml).documentElement!;
    if (req.namespaceURI !== NS.samlp || req.localName !== 'AuthnRequest')
      throw new RequestRefused('not an AuthnRequest');
    if (attr(req, 'Version') !== '2.0') throw new RequestRefused('not SAML 2.0');
    if (attr(req, 'Destination') !== ssoUrl) throw new RequestRefused('wrong Destination');
    if (textOf(requiredChild(req, NS.saml, 'Issuer')) !== trusted.entityId) throw new RequestRefused('unknown SP');
    const acsUrl = requiredAttr(req, 'AssertionConsumerServiceURL');
    if (trusted.acsUrl && acsUrl !== trusted.acsUrl) throw new RequestRefused('unregistered ACS URL');
    let minimumLoa: Loa | undefined;
    const context = optionalChild(req, NS.samlp, 'RequestedAuthnContext');
    if (context) {
      const refs = children(context, NS.saml, 'AuthnContextClassRef').map((r) => parseLoa(textOf(r)));
      minimumLoa = refs.find((r): r is Loa => r !== undefined);
    }
    // an eIDAS node refuses a request that does not say who asks (SPType) and for what
    const eidas = readEidasExtensions(req);
    if (requireEidas && !eidas)
      throw new RequestRefused('AuthnRequest lacks the eIDAS extensions (SPType, RequestedAttributes)');
    const unknown = eidas?.requestedAttributes.filter((a) => a.required && !releasable.has(a.name)) ?? [];
    if (unknown.length) throw new RequestRefused(`cannot provide mandatory attribute ${unknown[0]!.name}`);
    return {
      requestId: requiredAttr(req, 'ID'),
      acsUrl,
      relayState,
      minimumLoa,
      requested: eidas?.requestedAttributes,
      forceAuthn: attr(req, 'ForceAuthn') === 'true',
      expires: Date.now() + 300_000,
    };
  }

  async function fromRedirect(req: Request): Promise<Pending> {
    // The signature covers the query parameters exactly as they were sent (SAML bindings 3.4.4.1).
    const raw = new URL(req.originalUrl, 'http://x').search.slice(1);
    const parts = new Map(
      raw.split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const),
    );
    const get = (k: string) => (parts.has(k) ? decodeURIComponent(parts.get(k)!) : undefined);
    const samlRequest = get('SAMLRequest');
    const sigAlg = get('SigAlg');
    const signature = get('Signature');
    if (!samlRequest || !signature || sigAlg !== RSA_SHA256)
      throw new RequestRefused('AuthnRequest is not signed with rsa-sha256');
    const signed = redirectSignedQuery('SAMLRequest', samlRequest, get('RelayState'), sigAlg);
    const trusted = await sp();
    if (!cryptoVerify('sha256', Buffer.from(signed, 'utf8'), trusted.signingCert, Buffer.from(signature, 'base64')))
      throw new RequestRefused('AuthnRequest signature does not verify');
    const xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: 100_000 }).toString('utf8');
    return readAuthnRequest(xml, get('RelayState'));
  }

  async function fromPost(req: Request): Promise<Pending> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.SAMLRequest !== 'string') throw new RequestRefused('no SAMLRequest');
    const xml = Buffer.from(body.SAMLRequest, 'base64').toString('utf8');
    const root = parseStrict(xml).documentElement!;
    const trusted = await sp();
    verifyEnvelopedSignature(xml, root, [trusted.signingCert]);
    return readAuthnRequest(xml, typeof body.RelayState === 'string' ? body.RelayState : undefined);
  }

  return { fromRedirect, fromPost };
}

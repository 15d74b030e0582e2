// Signed AuthnRequests. saml2-js builds the request (ID, IssueInstant, Destination, ACS URL, NameIDPolicy,
// RequestedAuthnContext), we add the eIDAS Extensions when asked (./eidas.ts), and sign it for the chosen
// binding: HTTP-Redirect signs the query string (SAML bindings 3.4.4.1), HTTP-POST carries an enveloped
// XML signature placed right after Issuer, where the schema wants it (saml2-js appends it at the end,
// which strict IdPs refuse).
import { sign as cryptoSign } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import saml2 from 'saml2-js';
import { SignedXml } from 'xml-crypto';
import type { StartAction } from '../../src/broker/adapter.ts';
import { addEidasExtensions, type EidasExtensions } from './eidas.ts';

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

export interface AuthnRequestOptions {
  spEntityId: string;
  acsUrl: string;
  idpSsoUrl: string;
  signingKey: string;
  signingCert: string;
  binding: 'redirect' | 'post';
  relayState: string;
  forceAuthn: boolean;
  nameIdFormat: string;
  /** class references for RequestedAuthnContext (Comparison="minimum"); empty: none requested */
  classRefs: string[];
  /** eIDAS SPType and RequestedAttributes in samlp:Extensions (signed with the rest) */
  eidas?: EidasExtensions | undefined;
}

export interface BuiltRequest {
  id: string;
  action: StartAction;
  /** the unsigned request XML, for the audit digest */
  xml: string;
}

/** saml2-js's AuthnRequest, unsigned (we sign it below for the binding in use). */
function buildUnsigned(options: AuthnRequestOptions): Promise<{ id: string; xml: string }> {
  const sp = new saml2.ServiceProvider({
    entity_id: options.spEntityId,
    private_key: options.signingKey,
    certificate: options.signingCert,
    assert_endpoint: options.acsUrl,
  });
  const idp = new saml2.IdentityProvider({
    sso_login_url: options.idpSsoUrl,
    sso_logout_url: options.idpSsoUrl,
    certificates: [],
  });
  const loginRequest = {
    sign_get_request: false,
    force_authn: options.forceAuthn,
    nameid_format: options.nameIdFormat,
    ...(options.classRefs.length
      ? { auth_context: { comparison: 'minimum' as const, class_refs: options.classRefs } }
      : {}),
  };
  return new Promise((resolve, reject) => {
    sp.create_login_request_url(idp, loginRequest, (err, url, id) => {
      if (err) return reject(err);
      const encoded = new URL(url).searchParams.get('SAMLRequest');
      if (!encoded) return reject(new Error('saml2-js produced no SAMLRequest'));
      const xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
      resolve({ id, xml: options.eidas ? addEidasExtensions(xml, options.eidas) : xml });
    });
  });
}

/** The query an HTTP-Redirect binding signs: exact parameter order, URL-encoded values. */
export function redirectSignedQuery(
  param: 'SAMLRequest' | 'SAMLResponse',
  encoded: string,
  relayState: string | undefined,
  sigAlg: string,
): string {
  let query = `${param}=${encodeURIComponent(encoded)}`;
  if (relayState !== undefined) query += `&RelayState=${encodeURIComponent(relayState)}`;
  return `${query}&SigAlg=${encodeURIComponent(sigAlg)}`;
}

export function signPostXml(xml: string, key: string, cert: string, afterLocalName = 'Issuer'): string {
  const signer = new SignedXml({
    privateKey: key,
    publicCert: cert,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: '/*',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  signer.computeSignature(xml, { location: { reference: `/*/*[local-name(.)='${afterLocalName}']`, action: 'after' } });
  return signer.getSignedXml();
}

export async function buildAuthnRequest(options: AuthnRequestOptions): Promise<BuiltRequest> {
  const { id, xml } = await buildUnsigned(options);
  if (options.binding === 'post') {
    const signed = signPostXml(xml, options.signingKey, options.signingCert);
    return {
      id,
      xml,
      action: {
        type: 'form',
        url: options.idpSsoUrl,
        fields: { SAMLRequest: Buffer.from(signed, 'utf8').toString('base64'), RelayState: options.relayState },
      },
    };
  }
  const query = redirectSignedQuery(
    'SAMLRequest',
    deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'),
    options.relayState,
    RSA_SHA256,
  );
  const signature = cryptoSign('sha256', Buffer.from(query, 'utf8'), options.signingKey).toString('base64');
  const url = new URL(options.idpSsoUrl);
  const sep = url.search ? '&' : '?';
  return {
    id,
    xml,
    action: { type: 'redirect', url: `${url.toString()}${sep}${query}&Signature=${encodeURIComponent(signature)}` },
  };
}

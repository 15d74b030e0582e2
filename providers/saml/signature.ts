// Enveloped XML signatures on a SAML Response or Assertion, verified with xml-crypto against the
// configured IdP certificates only (KeyInfo is ignored), with an algorithm allow-list and a strict shape:
// one Signature, one Reference, pointing at the enveloping element by its ID. What is returned are the
// canonical signed bytes (xml-crypto's getSignedReferences()); callers read identity from those only.
import { SignedXml } from 'xml-crypto';
import type { Element } from '@xmldom/xmldom';
import { NS, XmlError, attr, children, requiredChild, requiredAttr } from './xml.ts';

export const ALLOWED_SIGNATURE_ALGORITHMS = [
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
] as const;
export const ALLOWED_DIGEST_ALGORITHMS = [
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
] as const;
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export class SignatureError extends Error {
  override name = 'SignatureError';
}

/** The ds:Signature that is a direct child of `el`, or undefined; more than one is refused. */
export function envelopedSignature(el: Element): Element | undefined {
  const sigs = children(el, NS.ds, 'Signature');
  if (sigs.length > 1) throw new SignatureError(`${el.localName} carries more than one signature`);
  return sigs[0];
}

/** Refuse anything but the one shape SAML uses, before any cryptography runs. */
function checkShape(sig: Element, el: Element): void {
  const signedInfo = requiredChild(sig, NS.ds, 'SignedInfo');
  const c14n = requiredAttr(requiredChild(signedInfo, NS.ds, 'CanonicalizationMethod'), 'Algorithm');
  if (c14n !== EXC_C14N) throw new SignatureError(`canonicalization ${c14n} is not allowed`);
  const sigAlg = requiredAttr(requiredChild(signedInfo, NS.ds, 'SignatureMethod'), 'Algorithm');
  if (!(ALLOWED_SIGNATURE_ALGORITHMS as readonly string[]).includes(sigAlg))
    throw new SignatureError(`signature algorithm ${sigAlg} is not allowed`);
  const refs = children(signedInfo, NS.ds, 'Reference');
  if (refs.length !== 1) throw new SignatureError(`signature must have exactly one reference, has ${refs.length}`);
  const ref = refs[0]!;
  const id = attr(el, 'ID');
  if (!id) throw new SignatureError(`signed ${el.localName} has no ID`);
  if (attr(ref, 'URI') !== `#${id}`)
    throw new SignatureError(`signature does not reference its enclosing ${el.localName}`);
  const digest = requiredAttr(requiredChild(ref, NS.ds, 'DigestMethod'), 'Algorithm');
  if (!(ALLOWED_DIGEST_ALGORITHMS as readonly string[]).includes(digest))
    throw new SignatureError(`digest algorithm ${digest} is not allowed`);
  const transforms = children(requiredChild(ref, NS.ds, 'Transforms'), NS.ds, 'Transform').map((t) =>
    requiredAttr(t, 'Algorithm'),
  );
  if (transforms[0] !== ENVELOPED || transforms.length > 2 || (transforms.length === 2 && transforms[1] !== EXC_C14N)) {
    throw new SignatureError(`transforms ${transforms.join(', ')} are not allowed`);
  }
  // SAML never needs ds:Object; it is only a hiding place for a wrapped assertion.
  if (children(sig, NS.ds, 'Object').length) throw new SignatureError('ds:Object inside a signature is not allowed');
}

function restrictedVerifier(cert: string): SignedXml {
  const sx = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
  const keep = <T extends Record<string, unknown>>(table: T, allowed: readonly string[]) =>
    Object.fromEntries(Object.entries(table).filter(([uri]) => allowed.includes(uri))) as T;
  sx.SignatureAlgorithms = keep(sx.SignatureAlgorithms, ALLOWED_SIGNATURE_ALGORITHMS);
  sx.HashAlgorithms = keep(sx.HashAlgorithms, ALLOWED_DIGEST_ALGORITHMS);
  sx.CanonicalizationAlgorithms = keep(sx.CanonicalizationAlgorithms, [EXC_C14N, ENVELOPED]);
  return sx;
}

/**
 * Verify the enveloped signature of `el` within the document `xml` against any of `certs`.
 * Returns the canonical signed bytes of `el`; throws SignatureError when nothing verifies.
 */
export function verifyEnvelopedSignature(xml: string, el: Element, certs: readonly string[]): string {
  const sig = envelopedSignature(el);
  if (!sig) throw new SignatureError(`${el.localName} is not signed`);
  try {
    checkShape(sig, el);
  } catch (err) {
    if (err instanceof XmlError) throw new SignatureError(err.message);
    throw err;
  }
  let lastError = 'no certificate configured';
  for (const cert of certs) {
    const sx = restrictedVerifier(cert);
    try {
      sx.loadSignature(sig);
      if (sx.checkSignature(xml) !== true) {
        lastError = 'a reference does not match its digest';
        continue;
      }
    } catch (err) {
      lastError = (err as Error).message
        .replace(/the signature value \S+ is incorrect/, 'signature value is incorrect')
        .slice(0, 200);
      continue;
    }
    const signed = sx.getSignedReferences();
    if (signed.length !== 1) throw new SignatureError('signature covers an unexpected number of references');
    return signed[0]!;
  }
  throw new SignatureError(
    `signature of ${el.localName} does not verify with the configured IdP certificate (${lastError})`,
  );
}

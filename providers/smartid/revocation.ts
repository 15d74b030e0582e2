// Revocation of a Smart-ID authentication certificate by OCSP (RFC 6960): one request per login, with a
// fresh nonce, to the configured responder or the one the certificate names (AIA). The answer counts only
// when signed by the issuing SK CA itself, by a responder certificate that CA issued for OCSP signing
// (id-kp-OCSPSigning), or by a configured responder certificate; when it names this certificate; when
// it echoes our nonce (or, where ocsp.nonce is off, echoes none or ours); and when thisUpdate/nextUpdate
// make it current.
import { randomBytes, verify, X509Certificate } from 'node:crypto';
import '../../src/tls/reflect-shim.ts';
import {
  BasicOCSPResponse,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from '@peculiar/asn1-ocsp';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BodyTooLargeError, readBoundedBody } from '../../src/tls/bounded-body.ts';
import { certIdOf, nonceExtension, nonceOf, sameCertId } from './ocsp-asn1.ts';

export type Revocation =
  | { status: 'good' }
  | { status: 'revoked' }
  | { status: 'unknown' }
  /** no answer that can be trusted: the reason is for the operator */
  | { status: 'failed'; reason: string };

export interface OcspOptions {
  url: string;
  /** responder certificates trusted besides the issuer and its delegated OCSP signers */
  responders: readonly X509Certificate[];
  /** the oldest thisUpdate accepted (a passed nextUpdate is stale too) */
  maxAgeSeconds: number;
  /** refuse an answer that does not echo the request's nonce */
  requireNonce: boolean;
  timeoutMs: number;
  now?: number;
}

/** Signature algorithms a responder may use (OID -> node's digest name). */
const SIGNATURE_DIGESTS: Record<string, string> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const SKEW_MS = 60_000;
const MAX_RESPONSE_BYTES = 64 * 1024;

/** The OCSP responder the certificate names (Authority Information Access), if any. */
export function aiaOcspUrl(cert: X509Certificate): string | undefined {
  return /OCSP - URI:(\S+)/.exec(cert.infoAccess ?? '')?.[1];
}

export function ocspRequest(cert: X509Certificate, issuer: X509Certificate, nonce: Buffer): Buffer {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certIdOf(cert, issuer) })],
      requestExtensions: [nonceExtension(nonce)],
    }),
  });
  return Buffer.from(AsnConvert.serialize(request));
}

export async function checkRevocation(
  cert: X509Certificate,
  issuer: X509Certificate,
  options: OcspOptions,
): Promise<Revocation> {
  const nonce = randomBytes(32);
  let body: Buffer;
  try {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      body: ocspRequest(cert, issuer, nonce),
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: 'error',
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { status: 'failed', reason: `responder answered HTTP ${res.status}` };
    }
    // the responder is usually plain http: whoever is on the path chooses the length, so stop at the limit
    body = await readBoundedBody(res, MAX_RESPONSE_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return { status: 'failed', reason: 'response too large' };
    return { status: 'failed', reason: `responder unreachable: ${(err as Error).name}` };
  }
  try {
    return judge(body, cert, issuer, nonce, options);
  } catch (err) {
    return { status: 'failed', reason: `malformed response: ${(err as Error).message}` };
  }
}

function judge(
  body: Buffer,
  cert: X509Certificate,
  issuer: X509Certificate,
  nonce: Buffer,
  options: OcspOptions,
): Revocation {
  const response = AsnConvert.parse(body, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful)
    return { status: 'failed', reason: `responder status ${OCSPResponseStatus[response.responseStatus]}` };
  if (response.responseBytes?.responseType !== id_pkix_ocsp_basic)
    return { status: 'failed', reason: 'not a basic OCSP response' };
  const basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  const digest = SIGNATURE_DIGESTS[basic.signatureAlgorithm.algorithm];
  if (!digest) return { status: 'failed', reason: `signature algorithm ${basic.signatureAlgorithm.algorithm}` };
  const signed = Buffer.from(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
  const now = options.now ?? Date.now();
  const signature = Buffer.from(basic.signature);
  const signer = signers(basic, issuer, options.responders, now).find((c) =>
    verify(digest, signed, c.publicKey, signature),
  );
  if (!signer) return { status: 'failed', reason: 'response signature does not verify under a trusted responder' };
  const data = basic.tbsResponseData;
  const echoed = nonceOf(data.responseExtensions);
  if (echoed && !echoed.equals(nonce)) return { status: 'failed', reason: 'nonce is not the one sent' };
  if (!echoed && options.requireNonce)
    return { status: 'failed', reason: 'nonce missing: a replayed answer cannot be told from a fresh one' };
  const wanted = certIdOf(cert, issuer);
  const single = data.responses.find((r) => sameCertId(r.certID, wanted));
  if (!single) return { status: 'failed', reason: 'response is about another certificate' };
  const thisUpdate = single.thisUpdate.getTime();
  if (thisUpdate > now + SKEW_MS) return { status: 'failed', reason: 'thisUpdate is in the future' };
  if (
    now - thisUpdate > options.maxAgeSeconds * 1000 ||
    (single.nextUpdate && single.nextUpdate.getTime() < now - SKEW_MS)
  )
    return { status: 'failed', reason: 'response is stale' };
  if (single.certStatus.revoked) return { status: 'revoked' };
  if (single.certStatus.good !== undefined) return { status: 'good' };
  return { status: 'unknown' };
}

/** Who may sign: configured responders, the issuer, and current OCSP signers the issuer issued. */
function signers(
  basic: BasicOCSPResponse,
  issuer: X509Certificate,
  configured: readonly X509Certificate[],
  now: number,
): X509Certificate[] {
  const delegated = (basic.certs ?? [])
    .map((c) => new X509Certificate(Buffer.from(AsnConvert.serialize(c))))
    .filter(
      (c) =>
        c.checkIssued(issuer) &&
        c.verify(issuer.publicKey) &&
        Date.parse(c.validFrom) <= now &&
        now <= Date.parse(c.validTo) &&
        (c.keyUsage ?? []).includes(id_kp_OCSPSigning),
    );
  return [...configured, issuer, ...delegated];
}

// The test CA's OCSP responder (RFC 6960), as SK runs one for its Smart-ID CAs: a delegated signer the
// issuing CA certified for OCSP signing answers for the certificates this RP API issued (good, or as the
// account is marked: revoked, unknown), echoes the request's nonce and signs with SHA-256/RSA. A test can
// make it misbehave the ways a relying party must refuse.
import { createHash, createPrivateKey, sign, webcrypto, X509Certificate } from 'node:crypto';
import '../../../src/tls/reflect-shim.ts';
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLReason, CRLReasons } from '@peculiar/asn1-x509';
import type * as X509 from '@peculiar/x509';
import { DAY, RSA, type Crypto } from './cert-parts.ts';
import express, { type Router } from 'express';
import { certIdOf, nonceExtension, nonceOf, parseCertificate, sameCertId } from '../ocsp-asn1.ts';
import type { TestRpApi } from './server.ts';

const x509: typeof X509 = await import('@peculiar/x509');

export type OcspMode =
  /** signed answers as SK gives them */
  | 'normal'
  /** one bit of the signature flipped */
  | 'bad_signature'
  /** signed by a key no SK CA certified */
  | 'untrusted_signer'
  /** thisUpdate two days old, nextUpdate passed */
  | 'stale'
  /** another nonce than the request's */
  | 'wrong_nonce'
  /** no nonce, as a responder answering from responses signed in advance */
  | 'no_nonce'
  /** the connection is dropped without an answer */
  | 'down'
  /** 256 KiB of answer (no Content-Length), then nothing more and the connection held open: only a client
   * that stops reading at its limit gets on at once */
  | 'oversized'
  /** its only SingleResponse says 'good' about another serial number of the same CA, as a replayed answer would */
  | 'other_certificate'
  /** 'good' about another serial number first, then the true answer about the certificate asked about */
  | 'other_certificate_first';

/** The CertID of another certificate of the same issuer: the requested serial number with its last bit flipped. */
function otherCertId(id: CertID): CertID {
  const serial = new Uint8Array(id.serialNumber.slice(0));
  serial[serial.length - 1]! ^= 1;
  const { hashAlgorithm, issuerNameHash, issuerKeyHash } = id;
  return new CertID({ hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber: serial.buffer });
}

interface Signer {
  cert: Certificate;
  node: X509Certificate;
  key: ReturnType<typeof createPrivateKey>;
}

async function newSigner(api: TestRpApi, certified: boolean): Promise<Signer> {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const own = certified ? undefined : await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const issuing = api.options.ca.issuing;
  const now = Date.now();
  const generated = await x509.X509CertificateGenerator.create(
    {
      serialNumber: '01',
      subject: 'CN=TEST of SK OCSP RESPONDER, O=SK ID Solutions AS, C=EE',
      issuer: issuing.cert.subject,
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + 365 * DAY),
      signingAlgorithm: RSA,
      publicKey: keys.publicKey as never,
      // an uncertified signer's certificate names the CA but is signed by a key of its own
      signingKey: (own ? (own as webcrypto.CryptoKeyPair).privateKey : issuing.privateKey) as never,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([id_kp_OCSPSigning]),
      ],
    },
    webcrypto as unknown as Crypto,
  );
  const der = Buffer.from(generated.rawData);
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    cert: AsnConvert.parse(der, Certificate),
    node: new X509Certificate(der),
    key: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
  };
}

export class TestOcspResponder {
  mode: OcspMode = 'normal';
  /** requests answered (the tests see that a check was made) */
  answered = 0;
  private readonly api: TestRpApi;
  private readonly signers = new Map<boolean, Promise<Signer>>();

  constructor(api: TestRpApi) {
    this.api = api;
  }

  private signer(certified: boolean): Promise<Signer> {
    let s = this.signers.get(certified);
    if (!s) {
      s = newSigner(this.api, certified);
      this.signers.set(certified, s);
    }
    return s;
  }

  /** The certificate (PEM) of the signer that answers in `untrusted_signer` mode, one the CA never certified:
   * trusted only where a relying party configures it (ocsp.responder_certificates). */
  async uncertifiedSignerPem(): Promise<string> {
    return (await this.signer(false)).node.toString();
  }

  /** The DER OCSPResponse to a DER OCSPRequest. */
  async answer(body: Buffer): Promise<Buffer> {
    const request = AsnConvert.parse(body, OCSPRequest);
    const issuing = new X509Certificate(Buffer.from(this.api.options.ca.issuing.cert.rawData));
    const now = Date.now();
    const stale = this.mode === 'stale';
    const single = (certID: CertID, certStatus: CertStatus) =>
      new SingleResponse({
        certID,
        certStatus,
        thisUpdate: new Date(now - (stale ? 2 * DAY : 1000)),
        nextUpdate: new Date(now + (stale ? -DAY : DAY)),
      });
    const responses = request.tbsRequest.requestList.flatMap(({ reqCert }) => {
      const serial = Buffer.from(reqCert.serialNumber).toString('hex').replace(/^0+/, '');
      const known = [...this.api.issued.entries()].find(([s]) => s.replace(/^0+/, '') === serial)?.[1];
      const ours = known && sameCertId(reqCert, certIdOf(known.certificate.certificate, issuing));
      const marked = ours ? known.account.revocation : 'unknown';
      const certStatus =
        marked === 'revoked'
          ? new CertStatus({
              revoked: new RevokedInfo({
                revocationTime: new Date(now - DAY),
                revocationReason: new CRLReason(CRLReasons.keyCompromise),
              }),
            })
          : marked === 'unknown'
            ? new CertStatus({ unknown: null })
            : new CertStatus({ good: null });
      const real = single(reqCert, certStatus);
      if (this.mode !== 'other_certificate' && this.mode !== 'other_certificate_first') return [real];
      const other = single(otherCertId(reqCert), new CertStatus({ good: null }));
      return this.mode === 'other_certificate' ? [other] : [other, real];
    });
    const nonce = nonceOf(request.tbsRequest.requestExtensions);
    const signer = await this.signer(this.mode !== 'untrusted_signer');
    const spki = parseCertificate(signer.node).tbsCertificate.subjectPublicKeyInfo.subjectPublicKey;
    const data = new ResponseData({
      responderID: new ResponderID({ byKey: new KeyHash(createHash('sha1').update(Buffer.from(spki)).digest()) }),
      producedAt: new Date(now),
      responses,
      ...(nonce && this.mode !== 'no_nonce'
        ? { responseExtensions: [nonceExtension(this.mode === 'wrong_nonce' ? Buffer.alloc(nonce.length, 7) : nonce)] }
        : {}),
    });
    const tbs = Buffer.from(AsnConvert.serialize(data));
    const signature = sign('sha256', tbs, signer.key);
    if (this.mode === 'bad_signature') signature[signature.length - 1]! ^= 1;
    const basic = new BasicOCSPResponse({
      tbsResponseData: data,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null }),
      signature: new Uint8Array(signature).buffer,
      certs: [signer.cert],
    });
    this.answered += 1;
    return Buffer.from(
      AsnConvert.serialize(
        new OCSPResponse({
          responseStatus: OCSPResponseStatus.successful,
          responseBytes: new ResponseBytes({
            responseType: id_pkix_ocsp_basic,
            response: new OctetString(AsnConvert.serialize(basic)),
          }),
        }),
      ),
    );
  }

  router(): Router {
    const router = express.Router();
    router.post('/', express.raw({ type: 'application/ocsp-request', limit: '8kb' }), async (req, res) => {
      if (this.mode === 'down') return void req.socket.destroy();
      if (this.mode === 'oversized') {
        res.type('application/ocsp-response');
        return void res.write(Buffer.alloc(256 * 1024, 0x30));
      }
      let answer: Buffer;
      try {
        answer = await this.answer(req.body as Buffer);
      } catch {
        // RFC 6960 4.2.1: an unparseable request gets malformedRequest, unsigned
        answer = Buffer.from(
          AsnConvert.serialize(new OCSPResponse({ responseStatus: OCSPResponseStatus.malformedRequest })),
        );
      }
      res.type('application/ocsp-response').send(answer);
    });
    return router;
  }
}

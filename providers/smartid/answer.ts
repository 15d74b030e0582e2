// A completed v3 authentication session, verified: the RSASSA-PSS parameters are the only ones ACSP_V2
// allows (MGF1 with the same hash, salt as long as the hash, trailer 0xbc), the signature covers the
// ACSP_V2 payload rebuilt from what this login sent, and the certificate passes ./certificate.ts.
import { constants, createPublicKey, verify, type X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ProviderError } from '../../src/broker/adapter.ts';
import { type CertificateLevel, type VerifiedCertificate, verifyCertificate } from './certificate.ts';
import { acspV2Payload, HASHES, isHashAlgorithm } from './protocol.ts';

const b64 = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);

/** The parts of a COMPLETE v3 session the relying party relies on (unknown fields are ignored, as SK asks). */
export const completedSessionSchema = z.object({
  state: z.literal('COMPLETE'),
  result: z.object({ endResult: z.literal('OK'), documentNumber: z.string().max(100) }),
  signatureProtocol: z.literal('ACSP_V2'),
  signature: z.object({
    value: b64,
    serverRandom: z.string().min(24).max(100),
    userChallenge: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    flowType: z.enum(['QR', 'Web2App', 'App2App', 'Notification']),
    signatureAlgorithm: z.literal('rsassa-pss'),
    signatureAlgorithmParameters: z.object({
      hashAlgorithm: z.string(),
      maskGenAlgorithm: z.object({
        algorithm: z.literal('id-mgf1'),
        parameters: z.object({ hashAlgorithm: z.string() }),
      }),
      saltLength: z.number().int(),
      trailerField: z.literal('0xbc'),
    }),
  }),
  cert: z.object({ value: b64, certificateLevel: z.string() }),
  interactionTypeUsed: z.string().max(100),
});

/** What this login sent, against which the answer is checked. */
export interface SentRequest {
  schemeName: string;
  rpChallenge: string;
  relyingPartyName: string;
  interactions: string;
  initialCallbackUrl: string;
  /** the flow this login started: a signature made in another flow is someone else's */
  flowTypes: readonly string[];
  /** the semantics identifier the notification was sent to, when one was */
  semanticsIdentifier?: string | undefined;
  requiredLevel: CertificateLevel;
  /** the hash this login asked the app to sign with */
  hashAlgorithm: string;
}

const refuse = (detail: string): never => {
  throw new ProviderError('invalid_response', `Smart-ID answer: ${detail}`);
};

export function verifyCompletedSession(
  body: unknown,
  sent: SentRequest,
  cas: readonly X509Certificate[],
  now = Date.now(),
): VerifiedCertificate & { documentNumber: string; flowType: string; userChallenge: string } {
  const parsed = completedSessionSchema.safeParse(body);
  if (!parsed.success) return refuse(`malformed completed session (${parsed.error.issues[0]?.path.join('.')})`);
  const { signature, cert, result, interactionTypeUsed } = parsed.data;
  const params = signature.signatureAlgorithmParameters;
  if (!isHashAlgorithm(params.hashAlgorithm)) return refuse('unsupported hash algorithm');
  const hash = HASHES[params.hashAlgorithm];
  if (params.hashAlgorithm !== sent.hashAlgorithm) refuse('signed with another hash than the one asked');
  if (params.maskGenAlgorithm.parameters.hashAlgorithm !== params.hashAlgorithm)
    refuse('MGF1 hash differs from the signature hash');
  if (params.saltLength !== hash.bytes) refuse('salt length differs from the hash length');
  if (!sent.flowTypes.includes(signature.flowType)) refuse(`flow ${signature.flowType} is not the one started`);

  const verified = verifyCertificate(cert.value, cas, sent.requiredLevel, now);
  if (sent.semanticsIdentifier && verified.semanticsIdentifier !== sent.semanticsIdentifier)
    refuse('certificate belongs to another person than the one asked');

  const payload = acspV2Payload({
    schemeName: sent.schemeName,
    serverRandom: signature.serverRandom,
    rpChallenge: sent.rpChallenge,
    userChallenge: signature.userChallenge,
    relyingPartyName: sent.relyingPartyName,
    brokeredRpName: '',
    interactions: sent.interactions,
    interactionTypeUsed,
    initialCallbackUrl: sent.initialCallbackUrl,
    flowType: signature.flowType,
  });
  const key = createPublicKey(verified.certificate.publicKey.export({ type: 'spki', format: 'pem' }));
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') refuse('certificate key is not RSA');
  const ok = verify(
    hash.node,
    payload,
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: hash.bytes },
    Buffer.from(signature.value, 'base64'),
  );
  if (!ok) refuse('signature does not verify over the ACSP_V2 payload');
  return {
    ...verified,
    documentNumber: result.documentNumber,
    flowType: signature.flowType,
    userChallenge: signature.userChallenge,
  };
}

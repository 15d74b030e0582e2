// A completed RP API v2 authentication session, verified: PKCS#1 v1.5 (sha512WithRSAEncryption) over the
// hash this login sent, which is SHA-512 of 64 random bytes the gateway kept, so the signature is checked
// as an ordinary signature of those bytes; the certificate passes ./certificate.ts.
import { constants, createPublicKey, verify, type X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ProviderError } from '../../src/broker/adapter.ts';
import { type CertificateLevel, type VerifiedCertificate, verifyCertificate } from './certificate.ts';

const b64 = z
  .string()
  .max(8192)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);

const completedV2Schema = z.object({
  state: z.literal('COMPLETE'),
  result: z.object({ endResult: z.literal('OK'), documentNumber: z.string().max(100) }),
  signature: z.object({ value: b64, algorithm: z.literal('sha512WithRSAEncryption') }),
  cert: z.object({ value: b64, certificateLevel: z.string() }),
});

const refuse = (detail: string): never => {
  throw new ProviderError('invalid_response', `Smart-ID v2 answer: ${detail}`);
};

export function verifyCompletedV2Session(
  body: unknown,
  sent: { hashPreimage: Buffer; semanticsIdentifier: string; requiredLevel: CertificateLevel },
  cas: readonly X509Certificate[],
  now = Date.now(),
): VerifiedCertificate {
  const parsed = completedV2Schema.safeParse(body);
  if (!parsed.success) return refuse(`malformed completed session (${parsed.error.issues[0]?.path.join('.')})`);
  const verified = verifyCertificate(parsed.data.cert.value, cas, sent.requiredLevel, now);
  if (verified.semanticsIdentifier !== sent.semanticsIdentifier)
    refuse('certificate belongs to another person than the one asked');
  const key = createPublicKey(verified.certificate.publicKey.export({ type: 'spki', format: 'pem' }));
  if (key.asymmetricKeyType !== 'rsa') refuse('certificate key is not RSA');
  const ok = verify(
    'sha512',
    sent.hashPreimage,
    { key, padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(parsed.data.signature.value, 'base64'),
  );
  if (!ok) refuse('signature does not verify over the hash sent');
  return verified;
}

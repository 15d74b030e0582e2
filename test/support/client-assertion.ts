// A client's private_key_jwt assertion (RFC 7523 3) as a test signs it: issued by and about `clientId`, for
// `aud`, valid 60 s, with a fresh jti; `claims` override any of these, and a null one leaves it out.
import { randomUUID } from 'node:crypto';
import { SignJWT, type CryptoKey } from 'jose';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export async function clientAssertion(
  signer: { key: CryptoKey; kid: string; alg?: string },
  clientId: string,
  aud: string,
  claims: Record<string, unknown> = {},
): Promise<{ jwt: string; jti: string }> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === null) delete payload[k];
  const header = { alg: signer.alg ?? 'ES256', kid: signer.kid };
  return { jwt: await new SignJWT(payload).setProtectedHeader(header).sign(signer.key), jti: String(payload.jti) };
}

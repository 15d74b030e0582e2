// A JWT the engine accepts once: a client assertion (private_key_jwt, client_secret_jwt) or a DPoP proof. The
// engine looks its id up, then records it (ReplayDetection.unique); the store's record is create-only
// (./adapter.ts), so of requests carrying one JWT at once, exactly one records it.
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { decodeJwt } from 'jose';

/** A JWT id another request recorded between the engine's look-up and this request's record of it. */
export class JwtIdTaken extends Error {
  override name = 'JwtIdTaken';
}

/** Whether `jti` is the id of the DPoP proof that the engine request under way carries. */
function isDpopProofOfRequest(jti: string): boolean {
  const proof = (Provider.ctx as KoaContextWithOIDC | undefined)?.get('DPoP');
  if (!proof) return false;
  try {
    return decodeJwt(proof).jti === jti;
  } catch {
    return false;
  }
}

/** Of requests carrying one JWT at once, those whose record finds its id taken are replays as much as a later
 * one: its check says so, and the engine refuses them as any replay, with its endpoint's error: invalid_client
 * for a client assertion (RFC 6749 5.2). A replayed DPoP proof, at once or later, is invalid_dpop_proof (RFC
 * 9449 5 at the token endpoint, 7.1 at userinfo, where the engine's own answer would be invalid_grant or
 * invalid_token): the client learns to send a new proof, not that its grant or token is bad. */
export function jwtReplaysRefused(engine: Provider): void {
  const model = engine.ReplayDetection;
  const unique = model.unique.bind(model);
  model.unique = async (iss, jti, exp) => {
    let unused: boolean;
    try {
      unused = await unique(iss, jti, exp);
    } catch (err) {
      if (!(err instanceof JwtIdTaken)) throw err;
      unused = false;
    }
    if (!unused && isDpopProofOfRequest(jti)) throw new errors.InvalidDpopProof('DPoP proof was already used');
    return unused;
  };
}

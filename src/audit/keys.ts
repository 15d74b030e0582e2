// Keys of the audit log, kept apart from the token signing keys:
// - the checkpoint key (Ed25519 or EC P-256) signs checkpoints as detached JWS; generated on first start;
// - the auditor's public key (optional) receives released claims as JWE;
// - the subject hash key (a secret) keys the HMAC of personal codes (see ./privacy.ts).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK, flattenedVerify, FlattenedSign } from 'jose';
import {
  CHECKPOINT_TYP,
  checkpointPayloadBytes,
  type Checkpoint,
  type CheckpointPayload,
} from './checkpoint-format.ts';

export type CheckpointAlg = 'EdDSA' | 'ES256';

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

export interface CheckpointVerifier {
  alg: CheckpointAlg;
  kid: string;
  publicKey: KeyObject;
  publicPem: string;
}

export interface CheckpointSigner extends CheckpointVerifier {
  privateKey: KeyObject;
}

function algOf(key: KeyObject, where: string): CheckpointAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new AuditKeyError(
    `${where}: checkpoint key must be Ed25519 or EC P-256 (found ${key.asymmetricKeyType ?? 'unknown'})`,
  );
}

async function verifierFor(publicKey: KeyObject, where: string): Promise<CheckpointVerifier> {
  const alg = algOf(publicKey, where);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { alg, kid, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** Write a new file durably and exclusively (never overwrites). */
export function writeNewFileSync(path: string, data: string | Buffer, mode: number): void {
  const fd = openSync(path, 'wx', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Load the checkpoint signing key (PKCS#8 PEM); generate it when the file does not exist. */
export async function loadOrCreateCheckpointKey(
  path: string,
  alg: CheckpointAlg,
  onGenerated?: (path: string) => void,
): Promise<CheckpointSigner> {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new AuditKeyError(`cannot read checkpoint key ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    const { privateKey } =
      alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeNewFileSync(path, pem, 0o600);
    onGenerated?.(path);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new AuditKeyError(`${path}: not a PEM private key`);
  }
  return { ...(await verifierFor(createPublicKey(privateKey), path)), privateKey };
}

/** A checkpoint verification key from a PEM (public key, certificate or private key) or a JWK file. */
export async function loadCheckpointPublicKey(path: string): Promise<CheckpointVerifier> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditKeyError(`cannot read public key ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return verifierFor(publicKeyFromText(text, path), path);
}

export function publicKeyFromText(text: string, where: string): KeyObject {
  try {
    if (text.trimStart().startsWith('{'))
      return createPublicKey({ key: JSON.parse(text) as JsonWebKey, format: 'jwk' });
    return createPublicKey(text);
  } catch {
    throw new AuditKeyError(`${where}: not a PEM or JWK public key`);
  }
}

/** A detached compact JWS (`<protected>..<signature>`) over `payload`, its header naming `typ`: checkpoints and
 * the retirement marker (./retired-marker.ts) are signed with one key, and a signature of one is never taken
 * for the other. */
export async function signDetached(payload: Buffer, typ: string, signer: CheckpointSigner): Promise<string> {
  const jws = await new FlattenedSign(payload)
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ })
    .sign(signer.privateKey);
  return `${jws.protected}..${jws.signature}`;
}

/** Throws AuditKeyError unless `sig` is a signature by `key` of `payload` with the header `typ` (`what` names
 * the object for the message). */
export async function verifyDetached(
  sig: string,
  payload: Buffer,
  typ: string,
  key: CheckpointVerifier,
  what: string,
): Promise<void> {
  const [protectedHeader, , signature] = sig.split('.');
  // base64url has spare bits in its last character: refuse any non-canonical encoding of the signature
  if (!signature || Buffer.from(signature, 'base64url').toString('base64url') !== signature)
    throw new AuditKeyError('signature is not canonical base64url');
  try {
    const result = await flattenedVerify(
      { protected: protectedHeader!, payload: payload.toString('base64url'), signature },
      key.publicKey,
      { algorithms: [key.alg] },
    );
    if (result.protectedHeader?.typ !== typ) throw new AuditKeyError(`signed object is not ${what}`);
    if (result.protectedHeader.kid !== key.kid)
      throw new AuditKeyError(`signed by key ${String(result.protectedHeader.kid)}, expected ${key.kid}`);
  } catch (err) {
    if (err instanceof AuditKeyError) throw err;
    throw new AuditKeyError(`signature does not verify with key ${key.kid}`);
  }
}

export async function signCheckpoint(payload: CheckpointPayload, signer: CheckpointSigner): Promise<Checkpoint> {
  return { ...payload, sig: await signDetached(checkpointPayloadBytes(payload), CHECKPOINT_TYP, signer) };
}

/** Throws AuditKeyError when the checkpoint's signature is not valid under the given key. */
export function verifyCheckpointSignature(cp: Checkpoint, key: CheckpointVerifier): Promise<void> {
  return verifyDetached(cp.sig, checkpointPayloadBytes(cp), CHECKPOINT_TYP, key, 'an audit checkpoint');
}

export interface AuditorKey {
  key: KeyObject;
  alg: 'RSA-OAEP-256' | 'ECDH-ES+A256KW';
  kid: string;
}

/** The auditor's public key (PEM or JWK file) that released claims are encrypted to. */
export async function loadAuditorKey(path: string): Promise<AuditorKey> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditKeyError(
      `cannot read auditor public key ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const key = publicKeyFromText(text, path);
  const type = key.asymmetricKeyType;
  let alg: AuditorKey['alg'];
  if (type === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new AuditKeyError(`${path}: auditor RSA key below 2048 bits`);
    alg = 'RSA-OAEP-256';
  } else if (type === 'ec' || type === 'x25519') {
    alg = 'ECDH-ES+A256KW';
  } else {
    throw new AuditKeyError(`${path}: auditor key must be RSA, EC or X25519 (found ${type ?? 'unknown'})`);
  }
  return { key, alg, kid: await calculateJwkThumbprint(await exportJWK(key)) };
}

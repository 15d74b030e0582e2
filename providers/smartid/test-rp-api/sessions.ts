// Sessions of the test RP API and how they complete: the app's answer is signed here exactly as the
// Smart-ID app signs it (ACSP_V2 payload, RSASSA-PSS), with the account's certificate.
import { constants, createHash, privateEncrypt, randomBytes, randomUUID, sign } from 'node:crypto';
import { acspV2Payload, HASHES, type HashAlgorithm } from '../protocol.ts';
import type { TestAccount } from './accounts.ts';
import type { IssuedCertificate } from './ca.ts';

export type PhoneAction = 'confirm' | 'refuse' | 'wrong_vc' | 'timeout' | 'unusable' | 'not_supported';

export interface TestSession {
  id: string;
  account: TestAccount;
  relyingPartyName: string;
  rpChallenge: string;
  interactions: string;
  hashAlgorithm: HashAlgorithm;
  requestedLevel: unknown;
  certificateLevel: 'QUALIFIED' | 'ADVANCED';
  createdAt: number;
  flowType: 'Notification' | 'Web2App' | 'QR';
  /** v2 sessions: the hash to sign (base64, SHA-512) instead of an ACSP_V2 payload */
  v2Hash?: string;
  /** device links: the session's token and secret, and where the app returns the browser */
  sessionToken?: string;
  sessionSecret?: string;
  initialCallbackUrl?: string;
  /** device links: the verifier whose SHA-256 the app signed as userChallenge */
  userChallengeVerifier?: string;
  result?: object;
  /** called when the session leaves RUNNING (wakes long polls) */
  waiters: (() => void)[];
}

export const newSessionId = (): string => randomUUID();

const ENDS: Record<Exclude<PhoneAction, 'confirm'>, string> = {
  refuse: 'USER_REFUSED_INTERACTION',
  wrong_vc: 'WRONG_VC',
  timeout: 'TIMEOUT',
  unusable: 'ACCOUNT_UNUSABLE',
  not_supported: 'REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP',
};

/** The completed session's JSON for an action of the phone. */
export function completion(
  session: TestSession,
  action: PhoneAction,
  cert: IssuedCertificate,
  schemeName: string,
): object {
  if (action !== 'confirm') return { state: 'COMPLETE', result: { endResult: ENDS[action] } };
  if (session.v2Hash) return completionV2(session, cert);
  const misbehave = session.account.misbehave;
  const hashAlgorithm: HashAlgorithm = misbehave === 'other_hash' ? 'SHA-256' : session.hashAlgorithm;
  const hash = HASHES[hashAlgorithm];
  const serverRandom = randomBytes(18).toString('base64');
  const verifier = randomBytes(32).toString('base64url');
  session.userChallengeVerifier = verifier;
  const userChallenge = createHash('sha256').update(verifier, 'utf8').digest('base64url');
  const interactionTypeUsed = (
    JSON.parse(Buffer.from(session.interactions, 'base64').toString('utf8')) as { type: string }[]
  )[0]!.type;
  const payload = acspV2Payload({
    schemeName: misbehave === 'other_scheme' ? (schemeName === 'smart-id' ? 'smart-id-demo' : 'smart-id') : schemeName,
    serverRandom,
    rpChallenge: session.rpChallenge,
    userChallenge,
    relyingPartyName: session.relyingPartyName,
    brokeredRpName: '',
    interactions: session.interactions,
    interactionTypeUsed,
    initialCallbackUrl: session.initialCallbackUrl ?? '',
    flowType: session.flowType,
  });
  const signature = sign(hash.node, payload, {
    key: cert.privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: hash.bytes,
  });
  if (misbehave === 'bad_signature') signature[signature.length - 1]! ^= 1;
  const reported =
    misbehave === 'swap_user_challenge'
      ? createHash('sha256').update(randomBytes(32)).digest('base64url')
      : userChallenge;
  return {
    state: 'COMPLETE',
    result: { endResult: 'OK', documentNumber: `${session.account.semanticsIdentifier}-MOCK-Q` },
    signatureProtocol: 'ACSP_V2',
    signature: {
      value: signature.toString('base64'),
      serverRandom,
      userChallenge: reported,
      flowType: session.flowType,
      signatureAlgorithm: 'rsassa-pss',
      signatureAlgorithmParameters: {
        hashAlgorithm,
        maskGenAlgorithm: { algorithm: 'id-mgf1', parameters: { hashAlgorithm } },
        saltLength: hash.bytes,
        trailerField: '0xbc',
      },
    },
    cert: { value: cert.certificate.raw.toString('base64'), certificateLevel: session.certificateLevel },
    interactionTypeUsed,
  };
}

/** DigestInfo prefix of SHA-512 (RFC 8017 9.2): what a v2 signature covers, before the hash itself. */
const SHA512_DIGEST_INFO = Buffer.from('3051300d060960864801650304020305000440', 'hex');

/** v2: PKCS#1 v1.5 over the relying party's hash, signed as a prehashed digest (the app never sees the data). */
function completionV2(session: TestSession, cert: IssuedCertificate): object {
  const digestInfo = Buffer.concat([SHA512_DIGEST_INFO, Buffer.from(session.v2Hash!, 'base64')]);
  const signature = privateEncrypt({ key: cert.privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
  if (session.account.misbehave === 'bad_signature') signature[signature.length - 1]! ^= 1;
  return {
    state: 'COMPLETE',
    result: { endResult: 'OK', documentNumber: `${session.account.semanticsIdentifier}-MOCK-Q` },
    signature: { value: signature.toString('base64'), algorithm: 'sha512WithRSAEncryption' },
    cert: { value: cert.certificate.raw.toString('base64'), certificateLevel: session.certificateLevel },
    interactionFlowUsed: 'confirmationMessageAndVerificationCodeChoice',
  };
}

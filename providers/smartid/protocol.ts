// The Smart-ID RP API's own computations (SK ID Solutions, RP API v2 and v3): the verification code the
// user compares with the app, the interactions the app shows, and the ACSP_V2 payload the app signs.
import { createHash, randomBytes } from 'node:crypto';

/** Hash algorithms the v3 ACSP_V2 protocol allows for RSASSA-PSS, with node:crypto's names and lengths. */
export const HASHES = {
  'SHA-256': { node: 'sha256', bytes: 32 },
  'SHA-384': { node: 'sha384', bytes: 48 },
  'SHA-512': { node: 'sha512', bytes: 64 },
  'SHA3-256': { node: 'sha3-256', bytes: 32 },
  'SHA3-384': { node: 'sha3-384', bytes: 48 },
  'SHA3-512': { node: 'sha3-512', bytes: 64 },
} as const;
export type HashAlgorithm = keyof typeof HASHES;

export const isHashAlgorithm = (value: unknown): value is HashAlgorithm =>
  typeof value === 'string' && Object.hasOwn(HASHES, value);

/**
 * The 4-digit code shown to the user: SHA-256 of the raw bytes (v2: the hash sent; v3: the rpChallenge),
 * the last two bytes as an unsigned big-endian number, modulo 10000, zero-padded.
 */
export function verificationCode(raw: Buffer): string {
  const digest = createHash('sha256').update(raw).digest();
  return String(digest.readUInt16BE(digest.length - 2) % 10000).padStart(4, '0');
}

/** A fresh rpChallenge: 64 random bytes (the protocol allows 32 to 64), base64. */
export const newRpChallenge = (): string => randomBytes(64).toString('base64');

export type InteractionType =
  | 'displayTextAndPIN'
  | 'confirmationMessage'
  | 'confirmationMessageAndVerificationCodeChoice'
  | 'verificationCodeChoice';

/**
 * What the app shows, as Estonia's broker asks it for a login: the service's name with a confirmation,
 * falling back to PIN entry with a short text on apps that cannot confirm. The app shows at most 60
 * (displayText60) or 200 (displayText200) characters.
 */
export function loginInteractions(text: string, flow: 'notification' | 'device-link'): object[] {
  const short = text.slice(0, 60);
  const long = text.slice(0, 200);
  return flow === 'notification'
    ? [
        { type: 'confirmationMessageAndVerificationCodeChoice', displayText200: long },
        { type: 'displayTextAndPIN', displayText60: short },
      ]
    : [
        { type: 'confirmationMessage', displayText200: long },
        { type: 'displayTextAndPIN', displayText60: short },
      ];
}

/** v3 sends the interactions as base64 of their JSON; the signature covers those exact bytes. */
export const encodeInteractions = (interactions: object[]): string =>
  Buffer.from(JSON.stringify(interactions), 'utf8').toString('base64');

export interface AcspV2Fields {
  /** `smart-id` live, `smart-id-demo` in SK's demo environment */
  schemeName: string;
  serverRandom: string;
  rpChallenge: string;
  userChallenge: string;
  relyingPartyName: string;
  brokeredRpName: string;
  /** base64 interactions exactly as sent */
  interactions: string;
  interactionTypeUsed: string;
  initialCallbackUrl: string;
  flowType: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The ACSP_V2 authentication payload the app signs; empty fields keep their separator. */
export function acspV2Payload(f: AcspV2Fields): Buffer {
  const interactionsDigest = createHash('sha256').update(f.interactions, 'utf8').digest('base64');
  return Buffer.from(
    [
      f.schemeName,
      'ACSP_V2',
      f.serverRandom,
      f.rpChallenge,
      f.userChallenge,
      b64(f.relyingPartyName),
      f.brokeredRpName ? b64(f.brokeredRpName) : '',
      interactionsDigest,
      f.interactionTypeUsed,
      f.initialCallbackUrl,
      f.flowType,
    ].join('|'),
    'utf8',
  );
}

/** Where a session that ended without a verified answer leaves the login; see ./results.ts. */
export const END_RESULTS = [
  'OK',
  'USER_REFUSED',
  'TIMEOUT',
  'DOCUMENT_UNUSABLE',
  'WRONG_VC',
  'REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP',
  'USER_REFUSED_CERT_CHOICE',
  'USER_REFUSED_DISPLAYTEXTANDPIN',
  'USER_REFUSED_VC_CHOICE',
  'USER_REFUSED_CONFIRMATIONMESSAGE',
  'USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE',
  'USER_REFUSED_INTERACTION',
  'PROTOCOL_FAILURE',
  'EXPECTED_LINKED_SESSION',
  'SERVER_ERROR',
  'ACCOUNT_UNUSABLE',
] as const;
export type EndResult = (typeof END_RESULTS)[number];

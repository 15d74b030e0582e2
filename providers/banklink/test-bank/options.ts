// What a test bank can be told: its ids, key material, test users and the misbehaviours that let tests
// prove each rejection the gateway must make.
import type { NameFormat } from '../names.ts';
import type { Hash, LengthMode } from '../protocol.ts';
import type { KeyMaterial } from './material.ts';

export const MISBEHAVIOURS = [
  'none',
  'bad_signature', // VK_MAC does not verify
  'no_mac', // VK_MAC left out
  'mac_line_breaks', // valid VK_MAC broken into 64-character lines (must still be accepted)
  'wrong_sender', // VK_SND_ID is not the bank's id
  'wrong_receiver', // VK_REC_ID is not the gateway's id
  'wrong_service', // answers 4012 with 3012 or 4011 with 3013
  'wrong_version', // VK_VERSION differs from the request
  'stale_time', // VK_DATETIME an hour old
  'future_time', // VK_DATETIME an hour ahead
  'early_time', // VK_DATETIME two minutes old: inside the window, but before the login started (a reused authentication)
  'bad_datetime', // VK_DATETIME in ISO form with `Z` instead of +hhmm
  'replay_nonce', // VK_NONCE of an earlier request
  'wrong_nonce', // a VK_NONCE that was never issued
  'wrong_rid', // VK_RID of another login
  'unknown_user', // a user whose personal code is not valid
  'bad_token', // VK_TOKEN outside the known methods
  'cancel', // the user cancelled
] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

export interface TestUser {
  id: string;
  givenName: string;
  familyName: string;
  personalCode: string;
  country: string;
  /** VK_TOKEN the bank reports for this user (default: the bank's token) */
  token?: string;
}

/** Valid codes from ../../../../shared/reference/identity.md, an Estonian user and one the gateway must refuse. */
export const DEFAULT_USERS: readonly TestUser[] = [
  { id: 'janis', givenName: 'Jānis', familyName: 'Bērziņš', personalCode: '010180-15097', country: 'LV' },
  { id: 'anna', givenName: 'Anna Marija', familyName: 'Kalniņa', personalCode: '32503511782', country: 'LV' },
  { id: 'karlis', givenName: 'Kārlis', familyName: 'Ozols', personalCode: '161175-19997', country: 'LV', token: '6' },
  { id: 'tooger', givenName: 'Leõpäöld', familyName: 'Tõõger', personalCode: '37602294565', country: 'EE' },
  { id: 'unknown', givenName: 'Nezināms', familyName: 'Lietotājs', personalCode: '123456-12345', country: 'LV' },
];

export interface TestBankOptions {
  /** the bank's id: VK_REC_ID of requests, VK_SND_ID of answers */
  bankId: string;
  /** the gateway's id at this bank (VK_SND_ID of requests) */
  merchantId: string;
  /** PEM certificate whose key verifies the gateway's requests */
  merchantCertificatePem: string;
  /** the bank's key and certificate (generated when absent) */
  material?: KeyMaterial;
  /** page title */
  displayName?: string;
  nameFormat?: NameFormat;
  /** signature hash override (default: SHA-1 for 008, SHA-512 for 009) */
  hash?: Hash;
  lengthMode?: LengthMode;
  /** default behaviour of every answer; a request may choose another (form field `misbehave`) */
  misbehave?: Misbehaviour;
  users?: readonly TestUser[];
  /** the one-time code the second step asks for */
  oneTimeCode?: string;
  /** VK_TOKEN reported by default (5: one-time codes) */
  token?: string;
  datetimeWindowSeconds?: number;
}

export function isMisbehaviour(v: unknown): v is Misbehaviour {
  return typeof v === 'string' && (MISBEHAVIOURS as readonly string[]).includes(v);
}

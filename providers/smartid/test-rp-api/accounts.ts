// The test RP API's demo accounts, after SK's demo environment: who succeeds at once, who refuses, who
// lets the session time out, who picks the wrong code, and a person whose phone waits for someone (the
// control endpoint or the phone page) to answer.
import type { CertificateOptions } from './ca.ts';

export type Behaviour =
  /** the app confirms on the first poll */
  | 'ok'
  /** the session waits for the phone (control endpoint or the demo phone page) */
  | 'phone'
  | 'refuse'
  | 'timeout'
  | 'wrong_vc'
  | 'unusable'
  | 'not_supported';

/** Protocol defects the test peer can commit, for the tests that check each is refused. */
export type Misbehaviour =
  /** one bit of the signature flipped */
  | 'bad_signature'
  /** signs one userChallenge, reports another */
  | 'swap_user_challenge'
  /** signs a payload with the live scheme name while the gateway expects the demo one (or the reverse) */
  | 'other_scheme'
  /** signs with SHA-256 whatever hash was asked */
  | 'other_hash'
  /** answers its session's polls with the headers, then a space a second, never ending (no read timeout
   * trips: only a deadline on the whole call ends it) */
  | 'drip_poll'
  /** answers its session's polls with JSON whitespace as fast as the connection takes it, never ending
   * and declaring no length (only a size limit on the answer ends it) */
  | 'flood_poll';

export interface TestAccount {
  semanticsIdentifier: string;
  givenName: string;
  surname: string;
  behaviour: Behaviour;
  /** the account's certificate level: a QUALIFIED request to an ADVANCED account is HTTP 471 */
  level?: 'QUALIFIED' | 'ADVANCED';
  certificate?: CertificateOptions;
  misbehave?: Misbehaviour;
  /** what the CA's OCSP responder says of the account's certificate (default good) */
  revocation?: 'revoked' | 'unknown';
}

export const DEMO_ACCOUNTS: readonly TestAccount[] = [
  { semanticsIdentifier: 'PNOLV-030303-10004', givenName: 'OK', surname: 'TESTNUMBER', behaviour: 'ok' },
  // a new-format Latvian code: no birth date
  { semanticsIdentifier: 'PNOLV-320000-10003', givenName: 'JAUNS', surname: 'KODS', behaviour: 'ok' },
  { semanticsIdentifier: 'PNOLT-30303039914', givenName: 'OK', surname: 'TESTNUMBER', behaviour: 'ok' },
  { semanticsIdentifier: 'PNOLV-030403-10016', givenName: 'REFUSED', surname: 'TESTNUMBER', behaviour: 'refuse' },
  { semanticsIdentifier: 'PNOLV-030403-10075', givenName: 'WRONG', surname: 'VC', behaviour: 'wrong_vc' },
  { semanticsIdentifier: 'PNOLV-030403-10083', givenName: 'TIMEOUT', surname: 'TESTNUMBER', behaviour: 'timeout' },
  // the person whose phone a tester (or the demo's phone page) holds
  { semanticsIdentifier: 'PNOLV-010180-15097', givenName: 'Jānis', surname: 'Bērziņš', behaviour: 'phone' },
];

// How every way a Smart-ID session can end is told: a page in the user's language (./messages.ts) and
// the OAuth error the agency service gets, the way Estonia's broker (TARA) maps them.
import type { ProviderErrorCode } from '../../src/broker/adapter.ts';
import { END_RESULTS, type EndResult } from './protocol.ts';
import type { MessageKey } from './messages.ts';

/** A session's end as this adapter records it between the RP API and the broker callback. */
export type Ending =
  /** the user pressed cancel on the waiting page */
  | { type: 'cancel' }
  /** the RP API no longer knows the session (HTTP 404 on its poll): unknown to it, or ended over 5 minutes ago */
  | { type: 'lost' }
  /** the login's record expired (session_ttl_seconds) before the session ended: only its way back is left */
  | { type: 'expired' }
  /** the RP API refused to start or poll the session with this HTTP status */
  | { type: 'http'; status: number }
  /** the RP API could not be reached or its TLS identity was refused */
  | { type: 'transport'; reason: string }
  /** the session ended with a non-OK endResult (or an unknown one) */
  | { type: 'end'; endResult: string }
  /** OCSP said the certificate is revoked, or its responder does not know it */
  | { type: 'revoked'; status: 'revoked' | 'unknown' }
  /** OCSP is required and gave no answer that can be trusted */
  | { type: 'revocation_unavailable'; reason: string }
  /** no session started: the person named has one running, or `starts` started within `window_seconds`
   * (./notification-limit.ts) */
  | { type: 'person_limit'; why: 'running' | 'starts'; starts: number; window_seconds: number }
  /** endResult OK: the signed answer, still to be verified by the callback */
  | { type: 'complete'; session: unknown };

export interface Told {
  code: ProviderErrorCode;
  message: MessageKey;
}

const REFUSED: Told = { code: 'user_cancel', message: 'end_refused' };
const TECHNICAL: Told = { code: 'temporarily_unavailable', message: 'end_technical' };

const BY_END_RESULT: Record<Exclude<EndResult, 'OK'>, Told> = {
  USER_REFUSED: REFUSED,
  USER_REFUSED_CERT_CHOICE: REFUSED,
  USER_REFUSED_DISPLAYTEXTANDPIN: REFUSED,
  USER_REFUSED_VC_CHOICE: REFUSED,
  USER_REFUSED_CONFIRMATIONMESSAGE: REFUSED,
  USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE: REFUSED,
  USER_REFUSED_INTERACTION: REFUSED,
  TIMEOUT: { code: 'access_denied', message: 'end_timeout' },
  WRONG_VC: { code: 'access_denied', message: 'end_wrong_vc' },
  DOCUMENT_UNUSABLE: { code: 'access_denied', message: 'end_unusable' },
  ACCOUNT_UNUSABLE: { code: 'access_denied', message: 'end_unusable' },
  REQUIRED_INTERACTION_NOT_SUPPORTED_BY_APP: { code: 'access_denied', message: 'end_not_supported' },
  // the app and the RP API disagree about the protocol: nothing the user can fix, nothing to trust
  PROTOCOL_FAILURE: { code: 'invalid_response', message: 'end_technical' },
  EXPECTED_LINKED_SESSION: { code: 'invalid_response', message: 'end_technical' },
  SERVER_ERROR: TECHNICAL,
};

/** RP API HTTP statuses of a session start (v2 and v3 alike): 404/471 no (suitable) account, 472 check the
 * app, 580 maintenance. A poll's 404 is no HTTP ending: the RP API client makes it `lost`. */
function byStatus(status: number): Told {
  if (status === 404 || status === 471) return { code: 'access_denied', message: 'end_no_account' };
  if (status === 472) return { code: 'access_denied', message: 'end_unusable' };
  if (status === 580) return { code: 'temporarily_unavailable', message: 'end_maintenance' };
  // 400/401/403: our request or our account at SK is wrong; 480: the gateway's RP API client is too old
  // for SK (operators' matters, nothing the person's app can change); 5xx: theirs
  return TECHNICAL;
}

/** What the user and the service are told of an ending other than `complete`. */
export function told(ending: Exclude<Ending, { type: 'complete' }>): Told {
  switch (ending.type) {
    case 'cancel':
      return { code: 'user_cancel', message: 'end_refused' };
    case 'http':
      return byStatus(ending.status);
    case 'transport':
    case 'revocation_unavailable':
    case 'lost':
      return TECHNICAL;
    case 'expired':
      return { code: 'access_denied', message: 'end_timeout' };
    case 'revoked':
      return { code: 'access_denied', message: 'end_revoked' };
    case 'person_limit':
      // RFC 6749 4.1.2.1 temporarily_unavailable, as the gateway's per-address limits answer: the gateway held
      // a prompt back for a while and the service may try again later; access_denied would read as a final
      // refusal of a person, while who typed the code is unknown (most likely not the person)
      return { code: 'temporarily_unavailable', message: 'end_too_many' };
    case 'end':
      return (END_RESULTS as readonly string[]).includes(ending.endResult) && ending.endResult !== 'OK'
        ? BY_END_RESULT[ending.endResult as Exclude<EndResult, 'OK'>]
        : { code: 'invalid_response', message: 'end_technical' };
  }
}

/** How the callback's error describes an ending other than `complete` (no personal data). */
export function endingDetail(ending: Exclude<Ending, { type: 'complete' }>, sessionTtlSeconds: number): string {
  switch (ending.type) {
    case 'end':
      return `endResult ${ending.endResult}`;
    case 'http':
      return `RP API answered HTTP ${ending.status}`;
    case 'transport':
      return `RP API unreachable: ${ending.reason}`;
    case 'revoked':
      return `OCSP: certificate ${ending.status}`;
    case 'revocation_unavailable':
      return `OCSP required but failed: ${ending.reason}`;
    case 'person_limit':
      return ending.why === 'running'
        ? 'a notification session for this person is still running (one at a time)'
        : `${ending.starts} notification sessions for this person within ${ending.window_seconds} s`;
    case 'lost':
      return 'the RP API no longer knows the session (HTTP 404 on its poll: unknown, or over 5 minutes old)';
    case 'expired':
      return `login not completed within session_ttl_seconds (${sessionTtlSeconds} s)`;
    case 'cancel':
      return 'cancelled on the waiting page';
  }
}

// Device links of the RP API v3 (Web2App: the Smart-ID app on the same phone): the link the browser
// opens, protected by an authCode (HMAC-SHA256 under the session secret over what the link asks the app
// to show), and the checks on the browser's return to initialCallbackUrl: the digest of the session
// secret (the return belongs to this session) and the user challenge verifier (the app that signed is
// the one that sent the browser back: its SHA-256 is the signed userChallenge).
import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../src/constant-time.ts';

export interface DeviceLinkParts {
  deviceLinkBase: string;
  deviceLinkType: 'QR' | 'Web2App' | 'App2App';
  /** QR only: whole seconds since the session started (the code is redrawn every second) */
  elapsedSeconds?: number;
  sessionToken: string;
  sessionSecret: string;
  schemeName: string;
  rpChallenge: string;
  relyingPartyName: string;
  brokeredRpName: string;
  interactions: string;
  initialCallbackUrl: string;
  lang: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The link without its authCode, as the app receives it. */
export function unprotectedLink(p: DeviceLinkParts): string {
  const query = new URLSearchParams({
    deviceLinkType: p.deviceLinkType,
    ...(p.deviceLinkType === 'QR' ? { elapsedSeconds: String(p.elapsedSeconds ?? 0) } : {}),
    sessionToken: p.sessionToken,
    sessionType: 'auth',
    version: '1.0',
    lang: p.lang,
  });
  return `${p.deviceLinkBase}?${query.toString()}`;
}

/** base64url(HMAC-SHA256(sessionSecret, scheme|ACSP_V2|rpChallenge|B64(rpName)|B64(brokered)|interactions|callback|link)). */
export function authCode(p: DeviceLinkParts, link = unprotectedLink(p)): string {
  const payload = [
    p.schemeName,
    'ACSP_V2',
    p.rpChallenge,
    b64(p.relyingPartyName),
    p.brokeredRpName ? b64(p.brokeredRpName) : '',
    p.interactions,
    p.initialCallbackUrl,
    link,
  ].join('|');
  return createHmac('sha256', Buffer.from(p.sessionSecret, 'base64')).update(payload, 'utf8').digest('base64url');
}

export const deviceLink = (p: DeviceLinkParts): string => {
  const link = unprotectedLink(p);
  return `${link}&authCode=${authCode(p, link)}`;
};

/** What the return carries as sessionSecretDigest: base64url(SHA-256(the secret's bytes)). */
export const sessionSecretDigest = (sessionSecret: string): string =>
  createHash('sha256').update(Buffer.from(sessionSecret, 'base64')).digest('base64url');

export const returnMatchesSession = (digest: string, sessionSecret: string): boolean =>
  constantTimeEqual(digest, sessionSecretDigest(sessionSecret));

/** The signed userChallenge is base64url(SHA-256(verifier)). */
export const verifierMatches = (verifier: string, userChallenge: string): boolean =>
  constantTimeEqual(createHash('sha256').update(verifier, 'utf8').digest('base64url'), userChallenge);

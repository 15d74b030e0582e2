// The test IdP's single sign-on session, kept as a real IdP keeps one: after a login the browser holds a
// session cookie, and a later AuthnRequest is answered from it at once (the same person, the AuthnInstant
// of that login) unless it carries ForceAuthn="true" (SAML core 3.4.1), which makes the IdP ask again.
import { randomBytes } from 'node:crypto';
import { parseCookie } from 'cookie';
import type { Request, Response } from 'express';

export interface IdpSession {
  /** index of the test user who logged in */
  user: number;
  /** when they authenticated (ms) */
  authnInstant: number;
}

const COOKIE = 'test_idp_session';
const TTL_MS = 3_600_000;

export class IdpSessions {
  private readonly sessions = new Map<string, IdpSession & { expires: number }>();
  private readonly path: string;

  /** `path`: where the IdP is mounted, so its cookie stays with it on a shared host */
  constructor(path: string) {
    this.path = path || '/';
  }

  find(req: Request): IdpSession | undefined {
    const id = parseCookie(req.get('cookie') ?? '')[COOKIE];
    const s = id ? this.sessions.get(id) : undefined;
    if (!s || s.expires < Date.now()) return undefined;
    return { user: s.user, authnInstant: s.authnInstant };
  }

  /** A new session after a login; it replaces whatever session this browser had. */
  start(res: Response, session: IdpSession): void {
    for (const [id, s] of this.sessions) if (s.expires < Date.now()) this.sessions.delete(id);
    const id = randomBytes(16).toString('hex');
    this.sessions.set(id, { ...session, expires: Date.now() + TTL_MS });
    res.cookie(COOKIE, id, { httpOnly: true, sameSite: 'lax', path: this.path });
  }

  /** Move every session's login this many seconds into the past (time passing without a test waiting). */
  age(seconds: number): void {
    for (const s of this.sessions.values()) s.authnInstant -= seconds * 1000;
  }
}

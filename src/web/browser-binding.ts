// The browser a login began in. A provider answers through whichever browser the person authenticated in,
// so without a tie to the browser that began the login, an attacker could begin one, lead a victim to the
// provider (a link to the bank or the eID), and then collect the victim's identity with the interaction
// and resume cookies of their own browser. The interaction pages set this cookie (the same random value
// for all logins of one browser, so logins in two tabs both go on); the login state keeps its digest; the
// callback refuses an answer that arrives without it (src/login/broker.ts), and pages an adapter serves
// itself (Smart-ID's) serve a login only to the browser whose digest it is (AdapterDeps.browserOf).
//
// Over https the cookie is `__Host-` (RFC 6265bis 4.1.3.2: no sibling subdomain or plain-http page can
// plant a value of its own) and SameSite=None: banklink answers and SAML POST-binding responses are
// cross-site form posts, which carry no Lax cookie. Browsers refuse SameSite=None without Secure, so over
// plain http (development only: production requires an https issuer) it is Lax, and a provider answering
// by form post must then be on the gateway's own site, as the demo's in-process peers are.
import { randomBytes } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import { browserDigest } from '../login/login-state.ts';

/** 32 random bytes, base64url */
const VALUE_RE = /^[A-Za-z0-9_-]{43}$/;

export interface BrowserBinding {
  /** the cookie's name for this issuer */
  readonly name: string;
  /** The value this browser carries, or undefined (absent or not one of ours). */
  read(req: IncomingMessage): string | undefined;
  /** The value this browser carries, or a new one; set (again) on the response so it outlives the login. */
  ensure(req: Request, res: Response): string;
  /** The digest a login state keeps of the value this request carries (AdapterDeps.browserOf). */
  digestOf(req: IncomingMessage): string | undefined;
}

export function browserBinding(issuer: string, loginTtlSeconds: number): BrowserBinding {
  const secure = issuer.startsWith('https://');
  const name = secure ? '__Host-vpm-browser' : 'vpm-browser';
  const read = (req: IncomingMessage): string | undefined => {
    const header = req.headers.cookie;
    const value = header ? parseCookie(header)[name] : undefined;
    return value && VALUE_RE.test(value) ? value : undefined;
  };
  return {
    name,
    read,
    digestOf(req) {
      const value = read(req);
      return value === undefined ? undefined : browserDigest(value);
    },
    ensure(req, res) {
      const value = read(req) ?? randomBytes(32).toString('base64url');
      res.append(
        'Set-Cookie',
        stringifySetCookie({
          name,
          value,
          path: '/',
          httpOnly: true,
          secure,
          sameSite: secure ? 'none' : 'lax',
          maxAge: loginTtlSeconds,
        }),
      );
      return value;
    },
  };
}

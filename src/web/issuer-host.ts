// Absolute URLs (discovery, redirects, cookie scope, the `Secure` flag) must come from the configured
// issuer, never from request headers: a forged Host or X-Forwarded-Host would otherwise publish an
// attacker's endpoints in discovery or send users there (host header injection, cache poisoning).
// The engine (Koa) builds URLs from Host / X-Forwarded-Host / X-Forwarded-Proto, so every request gets
// those headers rewritten here to the issuer's own values (or to a configured RFC 8705 alias origin,
// which the engine publishes itself), and the engine is told to read them. In production a request for
// any other host is refused; in development it is served as the issuer (the demo opened as 127.0.0.1
// instead of localhost keeps working, and still publishes only the issuer's URLs).
// The request target itself may name a host too (absolute-form, RFC 9112 3.2.2: `GET https://h/p`), which
// Koa's ctx.href and so every engine URL (discovery, the audiences a client assertion may name, DPoP htu)
// would follow: toOriginForm() makes that host the Host header before Express sees the request, and any
// target not in origin-form by then is refused here.
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.ts';
import { errorPage } from './views.ts';
import { pickLocale } from './i18n.ts';

export interface IssuerHostOptions {
  issuer: string;
  /** other public origins the gateway answers on (mtls_endpoint_aliases) */
  aliases?: readonly string[];
  production: boolean;
  logger: Logger;
}

/** `host[:port]` as a URL of this scheme normalises it (default port dropped, lower case), or undefined. */
function normalHost(value: string | undefined, protocol: string): string | undefined {
  if (!value || /[\s/@?#\\]/.test(value)) return undefined;
  try {
    return new URL(`${protocol}//${value}`).host;
  } catch {
    return undefined;
  }
}

/** RFC 9112 3.2.2: a target in absolute-form names its host itself, and the Host header is then ignored:
 * the target becomes origin-form and its host the Host header. Done before Express's router reads the
 * target (it keeps the scheme and host it finds there for the whole request). Asterisk- and authority-form
 * targets (`OPTIONS *`, `CONNECT h:p`) name nothing served here and are left for issuerHost to refuse. */
export function toOriginForm(req: IncomingMessage): void {
  const url = req.url ?? '';
  if (url.startsWith('/')) return;
  const absolute = /^https?:\/\/([^/?#]*)([^#]*)$/i.exec(url);
  if (!absolute) return;
  const rest = absolute[2]!;
  req.headers.host = absolute[1]!;
  req.url = rest.startsWith('/') ? rest : `/${rest}`;
}

/** Whether this request named another host than the issuer's and is served as the issuer (development
 * only): a page that sets cookies redirects to the issuer's host first, where the login comes back. */
export function cameForAnotherHost(res: Response): boolean {
  return res.locals.otherHost === true;
}

export function issuerHost(options: IssuerHostOptions): RequestHandler {
  const origins = [options.issuer, ...(options.aliases ?? [])].map((u) => new URL(u));
  const issuer = origins[0]!;
  return (req: Request, res: Response, next) => {
    const originForm = req.url.startsWith('/');
    const match = originForm && origins.find((u) => normalHost(req.headers.host, u.protocol) === u.host);
    if (!originForm || (!match && options.production)) {
      options.logger.warn('request for another host refused', {
        host: String(req.headers.host ?? '').slice(0, 100),
        ...(originForm ? {} : { target: 'neither origin- nor absolute-form' }),
        path: req.path,
      });
      res.status(400).set('cache-control', 'no-store');
      // a relying party's library that asks for JSON (openid-client does, at the token endpoint and userinfo)
      // gets an OAuth error it can read (RFC 6749 5.2); a browser, or a client stating no preference, the page
      if (req.accepts(['html', 'json']) === 'json') {
        res.json({ error: 'invalid_request', error_description: 'the request names another host than the issuer' });
        return;
      }
      res.type('html').send(
        errorPage({
          locale: pickLocale(undefined, req.get('accept-language')),
          message: 'error_generic',
          nonce: (res.locals.cspNonce as string) ?? '',
        }),
      );
      return;
    }
    const served = match || issuer;
    if (!match) res.locals.otherHost = true;
    req.headers.host = served.host;
    req.headers['x-forwarded-host'] = served.host;
    req.headers['x-forwarded-proto'] = served.protocol.slice(0, -1);
    // the client address as Express's `trust proxy` list established it, so the engine never reads a
    // client-supplied X-Forwarded-For either
    req.headers['x-forwarded-for'] = req.ip ?? req.socket.remoteAddress ?? '';
    delete req.headers.forwarded;
    next();
  };
}

// The QR device-link flow (a desktop browser, the Smart-ID app on a phone): /qr starts an anonymous
// device-link session without initialCallbackUrl (the app does not return a browser it never held), the
// waiting page shows the dynamic link as a QR code, and /qr.svg draws the link as it is now. The link
// carries the seconds elapsed since the session started and an authCode over them (./device-link.ts),
// so it is rebuilt on every request: the app refuses a stale code, and a photographed code soon expires.
import type { Router } from 'express';
import QRCode from 'qrcode';
import { escapeHtml } from '../../src/web/html.ts';
import { deviceLink } from './device-link.ts';
import { isLang, requestLang } from './messages.ts';
import { sendExpired } from './pages.ts';
import { encodeInteractions, loginInteractions, newRpChallenge } from './protocol.ts';
import { str } from './routes.ts';
import type { SmartIdLogin } from './sessions.ts';
import { APP_LANG, type PageTools } from './web2app-routes.ts';
import type { SmartIdAdapter } from './adapter.ts';

/** The dynamic link a QR login shows now; undefined for other logins or once it has ended. */
export function currentQrLink(adapter: SmartIdAdapter, login: SmartIdLogin, now = Date.now()): string | undefined {
  if (login.flow !== 'qr' || login.phase !== 'running' || !login.sessionToken || !login.sessionSecret) return undefined;
  return deviceLink({
    deviceLinkBase: login.deviceLinkBase ?? '',
    deviceLinkType: 'QR',
    elapsedSeconds: Math.max(0, Math.floor((now - (login.linkStartedAt ?? now)) / 1000)),
    sessionToken: login.sessionToken,
    sessionSecret: login.sessionSecret,
    schemeName: adapter.schemeName,
    rpChallenge: login.rpChallenge ?? '',
    relyingPartyName: adapter.config.relying_party_name,
    brokeredRpName: '',
    interactions: login.interactions ?? '',
    initialCallbackUrl: '',
    lang: APP_LANG[login.lang],
  });
}

/** The QR code of a link as SVG (drawn by the qrcode package), its text as the image's title. */
export async function qrSvg(link: string): Promise<string> {
  const svg = await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'L', margin: 4 });
  return svg.replace(/^<svg([^>]*)>/, `<svg$1 role="img"><title>${escapeHtml(link)}</title>`);
}

export function qrRoutes(router: Router, tools: PageTools): void {
  const { adapter, form, noStore, sessionRequest, steps } = tools;
  const { config, api } = adapter;

  router.post('/qr', form, async (req, res) => {
    noStore(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const handle = str(body.h);
    const { login } = await adapter.loginIn(req, handle);
    if (!login || !config.qr || config.api_version !== 'v3') return sendExpired(res, requestLang(req), 400);
    if (login.phase !== 'identify') return void res.redirect(303, steps.waitUrl(handle));
    const rpChallenge = newRpChallenge();
    const interactions = encodeInteractions(loginInteractions(login.displayText, 'device-link'));
    const lang = isLang(body.lang) ? body.lang : login.lang;
    const running: SmartIdLogin = { ...login, lang, flow: 'qr', rpChallenge, interactions };
    const { next } = await steps.begin(
      handle,
      login,
      running,
      () => api.startDeviceLink(sessionRequest(login, rpChallenge, interactions)),
      (s) => ({
        sessionToken: s.sessionToken,
        sessionSecret: s.sessionSecret,
        deviceLinkBase: s.deviceLinkBase,
        linkStartedAt: Date.now(),
      }),
    );
    res.redirect(303, next);
  });

  // The QR code as it is now: SVG by default, the link itself as text/plain (?format=text) for whoever
  // cannot see the image; 404 once the login has moved on (the page's script then reloads the page).
  router.get('/qr.svg', async (req, res) => {
    noStore(res);
    const { login } = await adapter.loginIn(req, str(req.query.h));
    const link = login && currentQrLink(adapter, login);
    if (!link) return void res.status(404).type('text/plain').send('');
    if (req.query.format === 'text') return void res.type('text/plain').send(link);
    res.type('image/svg+xml').send(await qrSvg(link));
  });
}

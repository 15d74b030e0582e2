// The Web2App routes of the adapter's pages: /app starts an anonymous device-link session and sends the
// browser to the Smart-ID app on this phone; the app sends it back to /return, checked before the login
// goes on (./device-link.ts), and the callback checks the verifier against the signed userChallenge.
import { setTimeout } from 'node:timers/promises';
import type { RequestHandler, Response, Router } from 'express';
import type { SmartIdAdapter } from './adapter.ts';
import { deviceLink, returnMatchesSession } from './device-link.ts';
import { isLang, type Lang, requestLang } from './messages.ts';
import { sendExpired } from './pages.ts';
import { encodeInteractions, loginInteractions, newRpChallenge } from './protocol.ts';
import { gone, str } from './routes.ts';
import type { SmartIdLogin } from './sessions.ts';
import type { SessionSteps } from './session-steps.ts';

/** The app's language codes (ISO 639-2) for the page's. */
export const APP_LANG: Record<Lang, string> = { lv: 'lav', en: 'eng', ru: 'rus' };

/** How long a second tap on the app button waits for the first one's session to start. */
const SECOND_TAP_WAIT_MS = 5000;

export interface PageTools {
  adapter: SmartIdAdapter;
  form: RequestHandler;
  noStore(res: Response): void;
  sessionRequest(login: SmartIdLogin, rpChallenge: string, interactions: string): object;
  steps: SessionSteps;
}

export function web2appRoutes(router: Router, tools: PageTools): void {
  const { adapter, form, noStore, sessionRequest, steps } = tools;
  const { config, logins, api } = adapter;
  /** The link that opens the app on a Web2App login's session, rebuilt from what the login keeps. */
  const appLink = (login: SmartIdLogin): string | undefined =>
    login.flow === 'web2app' && login.sessionToken && login.sessionSecret && login.deviceLinkBase
      ? deviceLink({
          deviceLinkBase: login.deviceLinkBase,
          deviceLinkType: 'Web2App',
          sessionToken: login.sessionToken,
          sessionSecret: login.sessionSecret,
          schemeName: adapter.schemeName,
          rpChallenge: login.rpChallenge ?? '',
          relyingPartyName: config.relying_party_name,
          brokeredRpName: '',
          interactions: login.interactions ?? '',
          initialCallbackUrl: login.initialCallbackUrl ?? '',
          lang: APP_LANG[login.lang],
        })
      : undefined;

  /** A second tap while the first one's session starts: the same link, once that session has started (the
   * browser shows the answer to the later tap); the waiting page when it does not start in time. */
  async function linkOfStarted(handle: string): Promise<string> {
    for (let waited = 0; waited <= SECOND_TAP_WAIT_MS; waited += 250) {
      const now = await logins.get(handle);
      if (now?.phase !== 'running' || now.flow !== 'web2app') break;
      const link = appLink(now);
      if (link) return link;
      await setTimeout(250);
    }
    return steps.waitUrl(handle);
  }

  router.post('/app', form, async (req, res) => {
    noStore(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const handle = str(body.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login || !config.web2app) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, await linkOfStarted(handle));
    const rpChallenge = newRpChallenge();
    const interactions = encodeInteractions(loginInteractions(login.displayText, 'device-link'));
    const initialCallbackUrl = `${adapter.publicBase}/return?h=${handle}`;
    const lang = isLang(body.lang) ? body.lang : login.lang;
    const running: SmartIdLogin = { ...login, lang, flow: 'web2app', rpChallenge, interactions, initialCallbackUrl };
    const { next, live, lost } = await steps.begin(
      handle,
      login,
      running,
      () => api.startDeviceLink({ ...sessionRequest(login, rpChallenge, interactions), initialCallbackUrl }),
      (s) => ({ sessionToken: s.sessionToken, sessionSecret: s.sessionSecret, deviceLinkBase: s.deviceLinkBase }),
    );
    if (lost) return void res.redirect(303, await linkOfStarted(handle));
    res.redirect(303, (live && appLink(live)) ?? next);
  });

  // The app sends the browser back here: the digest proves the return belongs to this session; the
  // verifier is kept for the callback, which checks it against the signed userChallenge.
  router.get('/return', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    // the app may open its return in another browser than the login began in: that one does not go on
    // (neither here nor, holding the handle, in anyone else's browser)
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    // a login that expired while the person was in the app: its page leads back to the service
    if (login.ending?.type === 'expired') return void res.redirect(303, steps.waitUrl(handle));
    if (
      login.flow !== 'web2app' ||
      !login.sessionSecret ||
      !returnMatchesSession(str(req.query.sessionSecretDigest), login.sessionSecret)
    ) {
      adapter.logger.warn('Smart-ID return refused', {
        providerId: adapter.id,
        reason: 'sessionSecretDigest mismatch',
      });
      return void sendExpired(res, login.lang);
    }
    const verifier = str(req.query.userChallengeVerifier);
    // kept on the login as it is now: a poll may record the session's end at the same moment (tries again)
    for (let tries = 0; verifier && !login.userChallengeVerifier && tries < 5; tries++) {
      const kept: SmartIdLogin = { ...login, userChallengeVerifier: verifier };
      if (await logins.advance(handle, login, kept)) Object.assign(login, kept);
      else {
        const now = await logins.get(handle);
        if (!now) return void sendExpired(res, login.lang);
        Object.assign(login, now);
      }
    }
    if (login.phase === 'running') {
      const next = await steps.pollOnce(handle, login, config.long_poll_ms);
      return void res.redirect(303, typeof next === 'string' ? next : steps.waitUrl(handle));
    }
    res.redirect(303, steps.waitUrl(handle));
  });
}

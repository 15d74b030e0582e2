// The Web2App routes of the adapter's pages: /app starts an anonymous device-link session and sends the
// browser to the Smart-ID app on this phone; the app sends it back to /return, checked before the login
// goes on (./device-link.ts), and the callback checks the verifier against the signed userChallenge.
import type { RequestHandler, Response, Router } from 'express';
import type { SmartIdAdapter } from './adapter.ts';
import { deviceLink, returnMatchesSession } from './device-link.ts';
import type { Lang } from './messages.ts';
import { sendExpired } from './pages.ts';
import { encodeInteractions, loginInteractions, newRpChallenge } from './protocol.ts';
import { gone, str } from './routes.ts';
import type { SmartIdLogin } from './sessions.ts';
import type { SessionSteps } from './session-steps.ts';

/** The app's language codes (ISO 639-2) for the page's. */
export const APP_LANG: Record<Lang, string> = { lv: 'lav', en: 'eng', ru: 'rus' };

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
  const base = adapter.pagesPath;
  router.post('/app', form, async (req, res) => {
    noStore(res);
    const handle = str((req.body as Record<string, unknown> | undefined)?.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login || !config.web2app) return void sendExpired(res, 'lv', 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, `${base}/wait?h=${handle}`);
    const rpChallenge = newRpChallenge();
    const interactions = encodeInteractions(loginInteractions(login.displayText, 'device-link'));
    const initialCallbackUrl = `${adapter.publicBase}/return?h=${handle}`;
    const running: SmartIdLogin = { ...login, flow: 'web2app', rpChallenge, interactions, initialCallbackUrl };
    const { next, started } = await steps.begin(
      handle,
      login,
      running,
      () => api.startDeviceLink({ ...sessionRequest(login, rpChallenge, interactions), initialCallbackUrl }),
      (s) => ({ sessionSecret: s.sessionSecret }),
    );
    if (!started) return void res.redirect(303, next);
    const link = deviceLink({
      deviceLinkBase: started.deviceLinkBase,
      deviceLinkType: 'Web2App',
      sessionToken: started.sessionToken,
      sessionSecret: started.sessionSecret,
      schemeName: adapter.schemeName,
      rpChallenge,
      relyingPartyName: config.relying_party_name,
      brokeredRpName: '',
      interactions,
      initialCallbackUrl,
      lang: APP_LANG[login.lang],
    });
    res.redirect(303, link);
  });

  // The app sends the browser back here: the digest proves the return belongs to this session; the
  // verifier is kept for the callback, which checks it against the signed userChallenge.
  router.get('/return', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    // the app may open its return in another browser than the login began in: that one does not go on
    // (neither here nor, holding the handle, in anyone else's browser)
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, 'lv', 400, gone(elsewhere));
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
    if (verifier && !login.userChallengeVerifier) {
      const kept: SmartIdLogin = { ...login, userChallengeVerifier: verifier };
      // a login that moved on meanwhile (it ended, or the verifier came first by another request) keeps its state
      if (!(await logins.advance(handle, login, kept))) return void res.redirect(303, steps.waitUrl(handle));
      Object.assign(login, kept);
    }
    if (login.phase === 'running') {
      const next = await steps.pollOnce(handle, login, config.long_poll_ms);
      return void res.redirect(303, typeof next === 'string' ? next : steps.waitUrl(handle));
    }
    res.redirect(303, `${base}/wait?h=${handle}`);
  });
}

// The adapter's own pages under /providers/<id>: the personal code form (login), the waiting page
// (wait), its script's long poll (status) and cancel. The RP API is only ever called from these pages
// (through ./session-steps.ts), with bounded timeouts; the broker callback is reached once the session
// has ended, whichever way.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import express, { type Request, type Response, type Router } from 'express';
import { PersonalCodeError, parsePersonalCode } from '../../src/identity/personal-code.ts';
import type { Country } from '../../src/identity/personal-code.ts';
import { isLang, type Lang, requestLang } from './messages.ts';
import { siteOf } from '../../src/web/outcome.ts';
import { endPage, sendExpired, identifyPage, waitPage } from './pages.ts';
import { encodeInteractions, loginInteractions, newRpChallenge, verificationCode } from './protocol.ts';
import { told } from './results.ts';
import { BUSY, sessionSteps } from './session-steps.ts';
import { notificationGate } from './notification-limit.ts';
import { web2appRoutes } from './web2app-routes.ts';
import { currentQrLink, qrRoutes } from './qr-routes.ts';
import type { SmartIdLogin } from './sessions.ts';
import type { SmartIdAdapter } from './adapter.ts';

/** The shortest long poll SK allows: what a page load (no script) waits at most. */
const PAGE_POLL_MS = 1000;

export const str = (v: unknown): string => (typeof v === 'string' && v.length <= 200 ? v : '');

/** Why a page finds no login for its request (SmartIdAdapter.loginIn). */
export const gone = (elsewhere: boolean) => (elsewhere ? 'other_browser' : 'expired');

export function smartIdRoutes(adapter: SmartIdAdapter): Router {
  const { config, api } = adapter;
  const base = adapter.pagesPath;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
  const nonce = (res: Response) => String(res.locals.cspNonce ?? '');
  const langOf = (req: Request, login: SmartIdLogin): Lang => (isLang(req.query.lang) ? req.query.lang : login.lang);
  const noStore = (res: Response) => res.set('Cache-Control', 'no-store');
  /** What every v3 authentication request carries. */
  const sessionRequest = (login: SmartIdLogin, rpChallenge: string, interactions: string) => ({
    relyingPartyUUID: config.relying_party_uuid,
    relyingPartyName: config.relying_party_name,
    certificateLevel: login.requiredLevel,
    signatureProtocol: 'ACSP_V2',
    signatureProtocolParameters: {
      rpChallenge,
      signatureAlgorithm: 'rsassa-pss',
      signatureAlgorithmParameters: { hashAlgorithm: config.hash_algorithm },
    },
    interactions,
  });

  const steps = sessionSteps(adapter);
  const { callbackFor, finish, pollOnce, begin, waitUrl } = steps;
  // a session named by a typed code pushes a prompt to that person's phone: limited per person
  const gate = notificationGate(adapter, steps);

  router.get('/login', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, waitUrl(handle));
    res.type('html').send(
      identifyPage({
        lang: langOf(req, login),
        base,
        handle,
        countries: config.countries,
        web2app: config.web2app && config.api_version === 'v3',
        qr: config.qr && config.api_version === 'v3',
        nonce: nonce(res),
        site: siteOf(res),
      }),
    );
  });

  router.post('/login', form, async (req, res) => {
    noStore(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const handle = str(body.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, waitUrl(handle));
    // the language chosen on the form (its hidden field) stays the login's from here on
    const lang = isLang(body.lang) ? body.lang : login.lang;
    const country = str(body.country) as Country;
    let code: string;
    try {
      if (!config.countries.includes(country)) throw new PersonalCodeError('country not offered');
      code = parsePersonalCode(country, str(body.code)).code;
    } catch (err) {
      if (!(err instanceof PersonalCodeError)) throw err;
      const page = identifyPage({
        lang,
        base,
        handle,
        countries: config.countries,
        web2app: config.web2app && config.api_version === 'v3',
        qr: config.qr && config.api_version === 'v3',
        error: true,
        nonce: nonce(res),
        site: siteOf(res),
      });
      return void res.status(400).type('html').send(page);
    }
    const semanticsIdentifier = `PNO${country}-${code}`;
    const displayed = loginInteractions(login.displayText, 'notification');
    let begun: { next: string };
    if (config.api_version === 'v2') {
      // v2 signs a hash: SHA-512 of random bytes the gateway keeps, so the answer verifies as a signature of them
      const preimage = randomBytes(64);
      const hash = createHash('sha512').update(preimage).digest();
      const running: SmartIdLogin = {
        ...login,
        lang,
        flow: 'v2',
        hashPreimage: preimage.toString('base64'),
        semanticsIdentifier,
        verificationCode: verificationCode(hash),
      };
      begun = await begin(handle, login, running, () =>
        gate(handle, running, () =>
          api.startV2(semanticsIdentifier, {
            relyingPartyUUID: config.relying_party_uuid,
            relyingPartyName: config.relying_party_name,
            certificateLevel: login.requiredLevel,
            hash: hash.toString('base64'),
            hashType: 'SHA512',
            allowedInteractionsOrder: displayed,
          }),
        ),
      );
    } else {
      const rpChallenge = newRpChallenge();
      const interactions = encodeInteractions(displayed);
      const running: SmartIdLogin = {
        ...login,
        lang,
        flow: 'notification',
        rpChallenge,
        interactions,
        semanticsIdentifier,
        verificationCode: verificationCode(Buffer.from(rpChallenge, 'base64')),
      };
      begun = await begin(handle, login, running, () =>
        gate(handle, running, () =>
          api.startNotification(semanticsIdentifier, {
            ...sessionRequest(login, rpChallenge, interactions),
            vcType: 'numeric4',
          }),
        ),
      );
    }
    res.redirect(303, begun.next);
  });

  const tools = { adapter, form, noStore, sessionRequest, steps };
  web2appRoutes(router, tools);
  qrRoutes(router, tools);

  router.get('/wait', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    const lang = langOf(req, login);
    if (login.phase === 'identify') return void res.redirect(303, `${base}/login?h=${handle}`);
    if (login.phase === 'running') {
      const next = await pollOnce(handle, login, PAGE_POLL_MS);
      if (typeof next !== 'string')
        return void res.type('html').send(
          waitPage({
            lang,
            base,
            handle,
            code: login.verificationCode ?? '',
            qrLink: currentQrLink(adapter, login),
            nonce: nonce(res),
            site: siteOf(res),
          }),
        );
      return void res.redirect(303, next);
    }
    const ending = login.ending!;
    if (ending.type === 'complete' || ending.type === 'cancel')
      return void res.redirect(303, callbackFor(handle, login));
    res.type('html').send(
      endPage({
        lang,
        message: told(ending).message,
        next: callbackFor(handle, login),
        nonce: nonce(res),
        site: siteOf(res),
        reference: login.reference,
      }),
    );
  });

  router.get('/status', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login } = await adapter.loginIn(req, handle);
    if (!login) return void res.status(404).json({ next: null });
    if (login.phase === 'identify') return void res.json({ next: `${base}/login?h=${handle}` });
    if (login.phase === 'done') return void res.json({ next: waitUrl(handle) });
    const next = await pollOnce(handle, login, config.long_poll_ms);
    if (next !== BUSY) return void res.json({ next: next ? waitUrl(handle) : null });
    // another request polls this login now: the script asks again after its pause on any other status
    if (login.sessionID) return void res.status(429).set('Retry-After', '2').json({ next: null });
    // its session is being started: the page reloads soon after, to show the code or QR code it now has
    await setTimeout(PAGE_POLL_MS);
    res.json({ next: waitUrl(handle) });
  });

  router.post('/cancel', form, async (req, res) => {
    noStore(res);
    const handle = str((req.body as Record<string, unknown> | undefined)?.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, requestLang(req), 400, gone(elsewhere));
    res.redirect(303, await finish(handle, login, { type: 'cancel' }));
  });

  return router;
}

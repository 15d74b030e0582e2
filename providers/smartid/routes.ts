// The adapter's own pages under /providers/<id>: the personal code form (login), the waiting page
// (wait), its script's long poll (status) and cancel. The RP API is only ever called from here, with
// bounded timeouts; the broker callback is reached once the session has ended, whichever way.
import { createHash, randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { PersonalCodeError, parsePersonalCode } from '../../src/identity/personal-code.ts';
import type { Country } from '../../src/identity/personal-code.ts';
import { isLang, type Lang } from './messages.ts';
import { endPage, sendExpired, identifyPage, waitPage } from './pages.ts';
import { encodeInteractions, loginInteractions, newRpChallenge, verificationCode } from './protocol.ts';
import { told, type Ending } from './results.ts';
import type { Started } from './rp-api.ts';
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
  const { config, logins, api } = adapter;
  const base = adapter.pagesPath;
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 });
  const nonce = (res: Response) => String(res.locals.cspNonce ?? '');
  const langOf = (req: Request, login: SmartIdLogin): Lang => (isLang(req.query.lang) ? req.query.lang : login.lang);
  const callbackFor = (handle: string, login: SmartIdLogin) => {
    const url = new URL(login.callbackUrl);
    url.searchParams.set('state', login.state);
    url.searchParams.set('h', handle);
    return url.toString();
  };
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

  /** Record how the session ended (the first ending wins) and say where the browser goes next. */
  async function finish(handle: string, login: SmartIdLogin, ending: Ending): Promise<string> {
    if (login.phase !== 'done') {
      const endedAt = Date.now();
      const checked = adapter.revocation ? await adapter.revocation.apply(ending) : ending;
      const done: SmartIdLogin = { ...login, phase: 'done', ending: checked, endedAt };
      await logins.update(handle, done);
      Object.assign(login, done);
    }
    const recorded = login.ending ?? ending; // what the revocation check made of it
    if (recorded.type === 'complete' || recorded.type === 'cancel') return callbackFor(handle, login);
    adapter.logger.warn('Smart-ID session ended', {
      providerId: adapter.id,
      ending: recorded.type,
      ...detailOf(recorded),
    });
    return `${base}/wait?h=${handle}`;
  }

  /** One poll of a running session; the next URL once it has ended. */
  async function pollOnce(handle: string, login: SmartIdLogin, timeoutMs: number): Promise<string | undefined> {
    const polled = await api.poll(login.sessionID!, timeoutMs);
    if (polled.running) return undefined;
    const fresh = (await logins.get(handle)) ?? login; // a concurrent poll or a cancel may have ended it first
    return finish(handle, fresh, fresh.ending ?? polled.ending);
  }

  router.get('/login', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, isLang(req.query.lang) ? req.query.lang : 'lv', 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, `${base}/wait?h=${handle}`);
    res.type('html').send(
      identifyPage({
        lang: langOf(req, login),
        base,
        handle,
        countries: config.countries,
        web2app: config.web2app && config.api_version === 'v3',
        qr: config.qr && config.api_version === 'v3',
        nonce: nonce(res),
      }),
    );
  });

  router.post('/login', form, async (req, res) => {
    noStore(res);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const handle = str(body.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, 'lv', 400, gone(elsewhere));
    if (login.phase !== 'identify') return void res.redirect(303, `${base}/wait?h=${handle}`);
    const country = str(body.country) as Country;
    let code: string;
    try {
      if (!config.countries.includes(country)) throw new PersonalCodeError('country not offered');
      code = parsePersonalCode(country, str(body.code)).code;
    } catch (err) {
      if (!(err instanceof PersonalCodeError)) throw err;
      const page = identifyPage({
        lang: login.lang,
        base,
        handle,
        countries: config.countries,
        web2app: config.web2app && config.api_version === 'v3',
        qr: config.qr && config.api_version === 'v3',
        error: true,
        nonce: nonce(res),
      });
      return void res.status(400).type('html').send(page);
    }
    const semanticsIdentifier = `PNO${country}-${code}`;
    const displayed = loginInteractions(login.displayText, 'notification');
    let running: SmartIdLogin;
    let started: Started;
    if (config.api_version === 'v2') {
      // v2 signs a hash: SHA-512 of random bytes the gateway keeps, so the answer verifies as a signature of them
      const preimage = randomBytes(64);
      const hash = createHash('sha512').update(preimage).digest();
      running = {
        ...login,
        phase: 'running',
        flow: 'v2',
        hashPreimage: preimage.toString('base64'),
        semanticsIdentifier,
        verificationCode: verificationCode(hash),
      };
      started = await api.startV2(semanticsIdentifier, {
        relyingPartyUUID: config.relying_party_uuid,
        relyingPartyName: config.relying_party_name,
        certificateLevel: login.requiredLevel,
        hash: hash.toString('base64'),
        hashType: 'SHA512',
        allowedInteractionsOrder: displayed,
      });
    } else {
      const rpChallenge = newRpChallenge();
      const interactions = encodeInteractions(displayed);
      running = {
        ...login,
        phase: 'running',
        flow: 'notification',
        rpChallenge,
        interactions,
        semanticsIdentifier,
        verificationCode: verificationCode(Buffer.from(rpChallenge, 'base64')),
      };
      started = await api.startNotification(semanticsIdentifier, {
        ...sessionRequest(login, rpChallenge, interactions),
        vcType: 'numeric4',
      });
    }
    if (started.ok) await logins.update(handle, { ...running, sessionID: started.sessionID });
    const next = started.ok ? `${base}/wait?h=${handle}` : await finish(handle, running, started.ending);
    res.redirect(303, next);
  });

  const tools = { adapter, form, noStore, sessionRequest, finish, pollOnce };
  web2appRoutes(router, tools);
  qrRoutes(router, tools);

  router.get('/wait', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, isLang(req.query.lang) ? req.query.lang : 'lv', 400, gone(elsewhere));
    const lang = langOf(req, login);
    if (login.phase === 'identify') return void res.redirect(303, `${base}/login?h=${handle}`);
    if (login.phase === 'running') {
      const next = await pollOnce(handle, login, PAGE_POLL_MS);
      if (!next)
        return void res.type('html').send(
          waitPage({
            lang,
            base,
            handle,
            code: login.verificationCode ?? '',
            qrLink: currentQrLink(adapter, login),
            nonce: nonce(res),
          }),
        );
      return void res.redirect(303, next);
    }
    const ending = login.ending!;
    if (ending.type === 'complete' || ending.type === 'cancel')
      return void res.redirect(303, callbackFor(handle, login));
    res
      .type('html')
      .send(endPage({ lang, message: told(ending).message, next: callbackFor(handle, login), nonce: nonce(res) }));
  });

  router.get('/status', async (req, res) => {
    noStore(res);
    const handle = str(req.query.h);
    const { login } = await adapter.loginIn(req, handle);
    if (!login) return void res.status(404).json({ next: null });
    if (login.phase === 'identify') return void res.json({ next: `${base}/login?h=${handle}` });
    if (login.phase === 'done') return void res.json({ next: `${base}/wait?h=${handle}` });
    const next = await pollOnce(handle, login, config.long_poll_ms);
    res.json({ next: next ? `${base}/wait?h=${handle}` : null });
  });

  router.post('/cancel', form, async (req, res) => {
    noStore(res);
    const handle = str((req.body as Record<string, unknown> | undefined)?.h);
    const { login, elsewhere } = await adapter.loginIn(req, handle);
    if (!login) return void sendExpired(res, 'lv', 400, gone(elsewhere));
    res.redirect(303, await finish(handle, login, { type: 'cancel' }));
  });

  return router;
}

/** Operator detail of an ending: no personal data (no code, no document number). */
function detailOf(ending: Ending): Record<string, unknown> {
  if (ending.type === 'end') return { endResult: ending.endResult };
  if (ending.type === 'http') return { status: ending.status };
  if (ending.type === 'transport' || ending.type === 'revocation_unavailable') return { reason: ending.reason };
  if (ending.type === 'revoked') return { ocsp: ending.status };
  return {};
}

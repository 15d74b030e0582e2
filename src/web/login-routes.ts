// The login flow's HTTP surface: node-oidc-provider's interaction pages and the provider callbacks. Each
// route reads the request, hands plain data to the flow (src/login/flow.ts) and sends the Outcome back;
// what happens in between is the flow's business.
import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import { AuditUnavailableError } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import type { UiLocale } from '../login/locale.ts';
import type { LoginFlow } from '../login/flow.ts';
import { auditUnavailable } from '../login/ending.ts';
import type { Interaction, Outcome } from '../login/step.ts';
import { pickLocale } from './i18n.ts';
import { sendOutcome } from './outcome.ts';
import { keepFormBytes, postedForm } from './form-charset.ts';
import type { BrowserBinding } from './browser-binding.ts';

export interface LoginRouteDeps {
  engine: Provider;
  flow: LoginFlow;
  logger: Logger;
  /** ties each login to the browser that began it */
  binding: BrowserBinding;
}

/** Most form fields a provider callback may carry. */
const MAX_CALLBACK_FIELDS = 50;

/** One form field of ours as a short string ('' when absent or not one). */
function field(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value.length <= 100 ? value : '';
}

/** Form fields or query parameters as plain strings; anything else (arrays, objects) is dropped. Lengths
 * are the broker's business: it refuses a field beyond its protocol's limit with an audit record. */
function stringParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}

const browserLocale = (req: Request): UiLocale => pickLocale(undefined, req.get('accept-language'));

/** The encoding the provider a callback request is for posts its answers in (LoginFlow.answerCharset). */
export const callbackCharset =
  (flow: LoginFlow) =>
  (req: Request): string | undefined => {
    const provider = /^\/broker\/callback\/([^/]+)$/.exec(req.path)?.[1];
    return provider ? flow.answerCharset(provider) : undefined;
  };

export function loginRoutes(deps: LoginRouteDeps): Router {
  const { engine, flow, logger, binding } = deps;
  const router = express.Router();
  const ourForm = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  // a login page belongs to one step of one login: the back button must ask again, not show a page whose
  // forms the login has moved past (RFC 9111 5.2.2.5)
  router.use(['/interaction', '/broker/callback'], (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // An interaction page: the engine's interaction, the user's language (the language switcher's
  // ui_locales, on its link or carried in our forms, before the service's), and the flow's answer. A login whose audit record cannot be written still ends
  // at the service (temporarily_unavailable) rather than on a dead-end page.
  const interactionStep =
    (
      step: (interaction: Interaction, locale: UiLocale, req: Request, res: Response) => Promise<Outcome>,
    ): RequestHandler =>
    async (req, res) => {
      const interaction = await engine.interactionDetails(req, res);
      const chosen = [req.query.ui_locales, field(req.body, 'ui_locales')].find((v) => typeof v === 'string' && v);
      const locale = pickLocale(chosen ?? interaction.params.ui_locales, req.get('accept-language'));
      try {
        await sendOutcome(engine, req, res, await step(interaction, locale, req, res), locale);
      } catch (err) {
        if (!(err instanceof AuditUnavailableError) || res.headersSent) throw err;
        logger.error('audit log unavailable: login ended with temporarily_unavailable', { path: req.path });
        await sendOutcome(engine, req, res, auditUnavailable(), locale);
      }
    };

  router.get(
    '/interaction/:uid',
    interactionStep((interaction, locale, req, res) =>
      flow.open(interaction, locale, binding.ensure(req, res), req.query.choose === '1'),
    ),
  );
  router.post(
    '/interaction/:uid/provider',
    ourForm,
    interactionStep((interaction, locale, req, res) =>
      flow.choose(interaction, field(req.body, 'provider'), locale, binding.ensure(req, res)),
    ),
  );
  router.post(
    '/interaction/:uid/abort',
    ourForm,
    interactionStep((interaction, _locale, req) => flow.end(interaction, field(req.body, 'reason'))),
  );
  router.get(
    '/interaction/:uid/complete',
    interactionStep((interaction) => flow.handBack(interaction)),
  );

  // Room for the longest field any configured provider may send (a SAML response), and beyond: a body
  // that is parsed lets the broker find the login behind an oversized field, so the service hears back.
  const bodyLimit = Math.max(512 * 1024, flow.longestAnswerField() + 64 * 1024);
  // the body's bytes are kept: a provider whose page is not in UTF-8 posts its answer in its own encoding
  const parse = express.urlencoded({
    extended: false,
    limit: bodyLimit,
    parameterLimit: MAX_CALLBACK_FIELDS,
    verify: keepFormBytes,
  });
  const callbackForm = (req: Request, res: Response, next: NextFunction) => {
    parse(req, res, (err?: unknown) => {
      const type = (err as { type?: string } | undefined)?.type;
      if (!err) return next();
      if (type !== 'entity.too.large' && type !== 'parameters.too.many') return next(err);
      const reason =
        type === 'entity.too.large'
          ? `callback body larger than ${bodyLimit} bytes`
          : `callback with more than ${MAX_CALLBACK_FIELDS} fields`;
      flow
        .refuseAnswer(String(req.params.provider).slice(0, 40), reason)
        .then((outcome) => sendOutcome(engine, req, res, outcome, browserLocale(req)))
        .catch(next);
    });
  };
  const callback = async (req: Request, res: Response) => {
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const params = stringParams(
      method === 'POST' ? postedForm(req, flow.answerCharset(String(req.params.provider))) : req.query,
    );
    const { outcome, locale } = await flow.answer(String(req.params.provider), params, method, binding.read(req));
    await sendOutcome(engine, req, res, outcome, locale ?? browserLocale(req));
  };
  router.get('/broker/callback/:provider', callback);
  router.post('/broker/callback/:provider', callbackForm, callback);
  return router;
}

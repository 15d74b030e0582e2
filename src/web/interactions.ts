// Broker logic behind node-oidc-provider's interactions: provider selection, the start of a provider
// round trip, the provider callback (found by the broker's own state, since the interaction cookie does
// not travel on cross-site POSTs) and the completion that hands the result back to the engine.
import express, { type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { Broker, BrokerError } from '../broker/broker.ts';
import type { Accounts } from '../oidc/accounts.ts';
import { requestedLoa } from '../oidc/provider.ts';
import type { Loa } from '../identity/loa.ts';
import type { Identity } from '../identity/identity.ts';
import type { Locale } from '../broker/adapter.ts';
import { pickLocale, type MessageKey } from './i18n.ts';
import { errorPage, redirectFormPage, selectionPage, type ProviderChoice } from './views.ts';

export interface InteractionDeps {
  provider: Provider;
  broker: Broker;
  store: Store;
  accounts: Accounts;
  audit: AuditLog;
  logger: Logger;
  /** providers that may serve this client at this level, in display order */
  providersFor(clientId: string, acr: Loa | undefined): ProviderChoice[];
  resultTtlSeconds: number;
  /** lifetime of an interaction: how long its "authorization request audited" marker is needed */
  interactionTtlSeconds: number;
}

type LoginResult =
  | { ok: true; identity: Identity; correlationId: string }
  | { ok: false; error: string; description: string; message: MessageKey };

/** Broker failure -> OAuth error for the relying party and a short message for the user. */
const OAUTH_ERRORS: Record<string, { error: string; description: string; message: MessageKey }> = {
  user_cancel: { error: 'user_cancel', description: 'the user cancelled the authentication', message: 'error_generic' },
  access_denied: { error: 'access_denied', description: 'the provider refused the authentication', message: 'error_access_denied' },
  temporarily_unavailable: { error: 'temporarily_unavailable', description: 'the provider is temporarily unavailable', message: 'error_provider_unavailable' },
  invalid_response: { error: 'access_denied', description: 'the provider answer could not be verified', message: 'error_invalid_response' },
  loa_too_low: { error: 'unmet_authentication_requirements', description: 'the authentication does not meet the requested level of assurance', message: 'error_loa_too_low' },
};

const MAX_PARAM_LENGTH = 200_000;

/** Form fields or query parameters as plain strings; anything else (arrays, objects) is dropped. */
function stringParams(source: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source || typeof source !== 'object') return out;
  for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
    if (typeof v === 'string' && v.length <= MAX_PARAM_LENGTH && k.length <= 100) out[k] = v;
  }
  return out;
}

export function interactionRoutes(d: InteractionDeps): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  // SAML responses are large; nothing else the callback receives comes close
  const callbackForm = express.urlencoded({ extended: false, limit: '512kb', parameterLimit: 50 });
  const nonce = (res: Response) => res.locals.cspNonce as string;

  const localeOf = (req: Request, params: Record<string, unknown>): Locale =>
    pickLocale(typeof req.query.ui_locales === 'string' ? req.query.ui_locales : params.ui_locales, req.get('accept-language'));

  async function startProvider(res: Response, uid: string, clientId: string, providerId: string, acr: Loa | undefined, locale: Locale) {
    const allowed = d.providersFor(clientId, acr).some((p) => p.id === providerId);
    if (!allowed) {
      res.status(400).type('html').send(errorPage({ locale, message: 'error_provider', nonce: nonce(res), back: `/interaction/${uid}` }));
      return;
    }
    await d.audit.record({ type: 'provider_chosen', correlationId: uid, clientId, providerId, detail: { acr: acr ?? null } });
    try {
      const { action } = await d.broker.begin({ uid, clientId, providerId, acr, locale, correlationId: uid });
      if (action.type === 'redirect') res.redirect(303, action.url);
      else res.type('html').send(redirectFormPage({ locale, url: action.url, fields: action.fields, nonce: nonce(res) }));
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      d.logger.warn('provider start failed', { correlationId: uid, providerId, code: err.code, detail: err.detail });
      res.status(502).type('html').send(errorPage({ locale, message: 'error_provider_unavailable', nonce: nonce(res), back: `/interaction/${uid}` }));
    }
  }

  router.get('/interaction/:uid', async (req, res) => {
    const details = await d.provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = details;
    const clientId = String(params.client_id);
    if (prompt.name === 'consent') {
      // registered agency services get consent automatically: the user chose to log in to them
      const grant = details.grantId ? await d.provider.Grant.find(details.grantId) : new d.provider.Grant({ accountId: session!.accountId, clientId });
      if (!grant) throw new Error('grant vanished during the interaction');
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
      const grantId = await grant.save();
      await d.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    const locale = localeOf(req, params);
    const acr = requestedLoa(params.acr_values);
    if (await d.store.setIfAbsent(`seen:${uid}`, '1', d.interactionTtlSeconds)) {
      await d.audit.record({ type: 'authorization_request', correlationId: uid, clientId, detail: { redirect_uri: params.redirect_uri, scope: params.scope, acr: acr ?? null, idp_hint: params.idp_hint ?? null, prompt: prompt.name, reasons: prompt.reasons } });
    }
    if (typeof params.idp_hint === 'string') {
      await startProvider(res, uid, clientId, params.idp_hint, acr, locale);
      return;
    }
    const client = await d.provider.Client.find(clientId);
    res.type('html').send(selectionPage({ locale, uid, clientName: client?.clientName ?? clientId, providers: d.providersFor(clientId, acr), nonce: nonce(res) }));
  });

  router.post('/interaction/:uid/provider', form, async (req, res) => {
    const details = await d.provider.interactionDetails(req, res);
    const body = stringParams(req.body);
    const locale = localeOf(req, details.params);
    await startProvider(res, details.uid, String(details.params.client_id), body.provider ?? '', requestedLoa(details.params.acr_values), locale);
  });

  router.post('/interaction/:uid/abort', form, async (req, res) => {
    const details = await d.provider.interactionDetails(req, res);
    await d.audit.record({ type: 'verification_error', correlationId: details.uid, clientId: String(details.params.client_id), detail: { code: 'user_cancel', reason: 'cancelled on the selection page' } });
    await d.provider.interactionFinished(req, res, { error: 'user_cancel', error_description: 'the user cancelled the authentication' }, { mergeWithLastSubmission: false });
  });

  const callback = async (req: Request, res: Response) => {
    const method = req.method === 'POST' ? 'POST' : 'GET';
    const params = stringParams(method === 'POST' ? req.body : req.query);
    const providerId = String(req.params.provider);
    let result: LoginResult;
    let uid: string;
    let locale: Locale = pickLocale(undefined, req.get('accept-language'));
    try {
      const { login, identity } = await d.broker.complete(providerId, params, method);
      uid = login.uid;
      locale = login.locale;
      result = { ok: true, identity, correlationId: login.correlationId };
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (!err.login) {
        const message: MessageKey = err.code === 'unknown_provider' ? 'error_provider' : 'error_state';
        res.status(err.code === 'unknown_provider' ? 404 : 400).type('html').send(errorPage({ locale, message, nonce: nonce(res) }));
        return;
      }
      uid = err.login.uid;
      locale = err.login.locale;
      const mapped = OAUTH_ERRORS[err.code] ?? OAUTH_ERRORS.invalid_response!;
      result = { ok: false, ...mapped };
    }
    await d.store.set(`result:${uid}`, JSON.stringify(result), d.resultTtlSeconds);
    const complete = `/interaction/${uid}/complete`;
    // A cancel goes straight back to the service; any other failure first tells the user what happened.
    if (result.ok || result.error === 'user_cancel') {
      res.redirect(303, complete);
      return;
    }
    res.status(400).type('html').send(errorPage({ locale, message: result.message, nonce: nonce(res), back: complete }));
  };
  router.get('/broker/callback/:provider', callback);
  router.post('/broker/callback/:provider', callbackForm, callback);

  router.get('/interaction/:uid/complete', async (req, res) => {
    const details = await d.provider.interactionDetails(req, res);
    const raw = await d.store.take(`result:${details.uid}`);
    if (!raw) {
      res.status(400).type('html').send(errorPage({ locale: localeOf(req, details.params), message: 'error_state', nonce: nonce(res) }));
      return;
    }
    const result = JSON.parse(raw) as LoginResult;
    if (!result.ok) {
      await d.provider.interactionFinished(req, res, { error: result.error, error_description: result.description }, { mergeWithLastSubmission: false });
      return;
    }
    // Login and consent in one step: registered agency services need no consent screen, and the grant
    // created here is what the identity of this login is stored under.
    const { identity } = result;
    const clientId = String(details.params.client_id);
    const grant = new d.provider.Grant({ accountId: identity.subject, clientId });
    grant.addOIDCScope(String(details.params.scope ?? 'openid'));
    const grantId = await grant.save();
    await d.accounts.save(grantId, { identity, correlationId: result.correlationId, clientId });
    await d.provider.interactionFinished(
      req,
      res,
      { login: { accountId: identity.subject, acr: identity.loa, amr: identity.amr, remember: false, ts: identity.authTime }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  });

  return router;
}

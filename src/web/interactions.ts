// Broker logic behind node-oidc-provider's interactions: provider selection, the start of a provider
// round trip, the way back (ending the login with an OAuth error) and the completion that hands the
// result back to the engine. The provider callback is in ./callback.ts. Every page that cannot go on
// offers the way back, so the service always hears how its authorization request ended.
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import type { Store } from '../store/store.ts';
import { AuditUnavailableError, type AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { BrokerError, type Broker } from '../broker/broker.ts';
import type { Accounts } from '../oidc/accounts.ts';
import { requestedLoa } from '../oidc/provider.ts';
import type { Loa } from '../identity/loa.ts';
import type { Locale } from '../broker/adapter.ts';
import { pickLocale } from './i18n.ts';
import { errorPage, redirectFormPage, selectionPage, type EndReason, type ProviderChoice } from './views.ts';
import { callbackRoutes, type LoginResult } from './callback.ts';

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
  /** provider round trips one interaction may start (limits.provider_starts) */
  providerStarts: number;
}

/** How the way back ends a login: the OAuth error the service gets, and why (for the audit log). */
const ENDINGS: Record<EndReason, { error: string; description: string }> = {
  cancel: { error: 'user_cancel', description: 'the user cancelled the authentication' },
  interrupted: { error: 'access_denied', description: 'the login was interrupted: a step was reloaded or sent again' },
  too_many_starts: { error: 'access_denied', description: 'authentication was started too many times in this login' },
  unavailable: { error: 'temporarily_unavailable', description: 'the login service is temporarily unavailable' },
};

export function interactionRoutes(d: InteractionDeps): Router {
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  const nonce = (res: Response) => res.locals.cspNonce as string;
  const field = (body: unknown, name: string): string => {
    const v = (body as Record<string, unknown> | undefined)?.[name];
    return typeof v === 'string' && v.length <= 100 ? v : '';
  };

  // Fail closed without leaving the service waiting: a login whose audit record cannot be written ends
  // with temporarily_unavailable at the service (RFC 6749 4.1.2.1) instead of a dead-end page.
  const guarded =
    (handler: (req: Request, res: Response) => Promise<void>): RequestHandler =>
    async (req, res) => {
      try {
        await handler(req, res);
      } catch (err) {
        if (!(err instanceof AuditUnavailableError) || res.headersSent) throw err;
        d.logger.error('audit log unavailable: login ended with temporarily_unavailable', { path: req.path });
        await d.provider.interactionFinished(
          req,
          res,
          { error: 'temporarily_unavailable', error_description: ENDINGS.unavailable.description },
          { mergeWithLastSubmission: false },
        );
      }
    };

  const localeOf = (req: Request, params: Record<string, unknown>): Locale =>
    pickLocale(
      typeof req.query.ui_locales === 'string' ? req.query.ui_locales : params.ui_locales,
      req.get('accept-language'),
    );

  async function startProvider(
    res: Response,
    uid: string,
    clientId: string,
    providerId: string,
    acr: Loa | undefined,
    locale: Locale,
  ) {
    const allowed = d.providersFor(clientId, acr).some((p) => p.id === providerId);
    if (!allowed) {
      res
        .status(400)
        .type('html')
        .send(errorPage({ locale, message: 'error_provider', nonce: nonce(res), back: `/interaction/${uid}` }));
      return;
    }
    // Each start writes audit entries and a login state: a login may start only a few (reloads included);
    // the earlier login state is replaced each time (LoginStates.create).
    const { count } = await d.store.increment(`starts:${uid}`, d.interactionTtlSeconds);
    if (count > d.providerStarts) {
      d.logger.warn('provider start refused', { correlationId: uid, providerId, starts: count });
      if (count === d.providerStarts + 1)
        await d.audit.record({
          type: 'provider_request_error',
          correlationId: uid,
          clientId,
          providerId,
          detail: { reason: `more than ${d.providerStarts} provider starts in one login` },
        });
      res
        .status(429)
        .type('html')
        .send(
          errorPage({
            locale,
            message: 'error_too_many_starts',
            nonce: nonce(res),
            end: { uid, reason: 'too_many_starts' },
          }),
        );
      return;
    }
    await d.audit.record({
      type: 'provider_chosen',
      correlationId: uid,
      clientId,
      providerId,
      detail: { acr: acr ?? null },
    });
    try {
      const { action } = await d.broker.begin({ uid, clientId, providerId, acr, locale, correlationId: uid });
      if (action.type === 'redirect') res.redirect(303, action.url);
      else
        res.type('html').send(redirectFormPage({ locale, url: action.url, fields: action.fields, nonce: nonce(res) }));
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      d.logger.warn('provider start failed', { correlationId: uid, providerId, code: err.code, detail: err.detail });
      res
        .status(502)
        .type('html')
        .send(
          errorPage({ locale, message: 'error_provider_unavailable', nonce: nonce(res), back: `/interaction/${uid}` }),
        );
    }
  }

  router.get(
    '/interaction/:uid',
    guarded(async (req, res) => {
      const details = await d.provider.interactionDetails(req, res);
      const { uid, prompt, params, session } = details;
      const clientId = String(params.client_id);
      if (prompt.name === 'consent') {
        // registered agency services get consent automatically: the user chose to log in to them
        const grant = details.grantId
          ? await d.provider.Grant.find(details.grantId)
          : new d.provider.Grant({ accountId: session!.accountId, clientId });
        if (!grant) throw new Error('grant vanished during the interaction');
        const missing = prompt.details as {
          missingOIDCScope?: string[];
          missingOIDCClaims?: string[];
          missingResourceScopes?: Record<string, string[]>;
        };
        if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
        if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
          grant.addResourceScope(indicator, scopes.join(' '));
        const grantId = await grant.save();
        await d.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      const locale = localeOf(req, params);
      const acr = requestedLoa(params.acr_values);
      if (await d.store.setIfAbsent(`seen:${uid}`, '1', d.interactionTtlSeconds)) {
        await d.audit.record({
          type: 'authorization_request',
          correlationId: uid,
          clientId,
          detail: {
            redirect_uri: params.redirect_uri,
            scope: params.scope,
            acr: acr ?? null,
            idp_hint: params.idp_hint ?? null,
            prompt: prompt.name,
            reasons: prompt.reasons,
          },
        });
      }
      if (typeof params.idp_hint === 'string') {
        await startProvider(res, uid, clientId, params.idp_hint, acr, locale);
        return;
      }
      const client = await d.provider.Client.find(clientId);
      res.type('html').send(
        selectionPage({
          locale,
          uid,
          clientName: client?.clientName ?? clientId,
          providers: d.providersFor(clientId, acr),
          nonce: nonce(res),
        }),
      );
    }),
  );

  router.post(
    '/interaction/:uid/provider',
    form,
    guarded(async (req, res) => {
      const details = await d.provider.interactionDetails(req, res);
      const locale = localeOf(req, details.params);
      await startProvider(
        res,
        details.uid,
        String(details.params.client_id),
        field(req.body, 'provider'),
        requestedLoa(details.params.acr_values),
        locale,
      );
    }),
  );

  // The way back: cancel on the selection page, or end a login that cannot go on (a replayed answer, a
  // reloaded hand-back, too many starts). Audited once per interaction however often it is posted.
  router.post(
    '/interaction/:uid/abort',
    form,
    guarded(async (req, res) => {
      const details = await d.provider.interactionDetails(req, res);
      const requested = field(req.body, 'reason');
      const reason: EndReason = Object.hasOwn(ENDINGS, requested) ? (requested as EndReason) : 'cancel';
      const ending = ENDINGS[reason];
      if (await d.store.setIfAbsent(`ended:${details.uid}`, '1', d.interactionTtlSeconds)) {
        const providerId = (await d.broker.loginOf(details.uid))?.providerId;
        await d.audit.record({
          type: 'verification_error',
          correlationId: details.uid,
          clientId: String(details.params.client_id),
          providerId,
          detail: {
            code: ending.error,
            reason: reason === 'cancel' ? 'cancelled on the selection page' : ending.description,
          },
        });
      }
      await d.provider.interactionFinished(
        req,
        res,
        { error: ending.error, error_description: ending.description },
        { mergeWithLastSubmission: false },
      );
    }),
  );

  router.get('/interaction/:uid/complete', async (req, res) => {
    const details = await d.provider.interactionDetails(req, res);
    const raw = await d.store.take(`result:${details.uid}`);
    if (!raw) {
      // reloaded (the result is single use) or reached before any provider answered: the way back
      res
        .status(400)
        .type('html')
        .send(
          errorPage({
            locale: localeOf(req, details.params),
            message: 'error_interrupted',
            nonce: nonce(res),
            end: { uid: details.uid, reason: 'interrupted' },
          }),
        );
      return;
    }
    const result = JSON.parse(raw) as LoginResult;
    if (!result.ok) {
      await d.provider.interactionFinished(
        req,
        res,
        { error: result.error, error_description: result.description },
        { mergeWithLastSubmission: false },
      );
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
      {
        login: {
          accountId: identity.subject,
          acr: identity.loa,
          amr: identity.amr,
          remember: false,
          ts: identity.authTime,
        },
        consent: { grantId },
      },
      { mergeWithLastSubmission: false },
    );
  });

  router.use(callbackRoutes(d));
  return router;
}

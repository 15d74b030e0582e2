// The round trip with a provider adapter. begin() (step 2 of ./flow.ts) asks the adapter where to send
// the user and stores the login under a fresh state; complete() (step 3) finds the login again by the
// state the protocol carries back, takes it (single use) and has the answer verified (steps 4-6,
// ./verify.ts). Every step lands in the audit log.
import { AuditUnavailableError, type AuditEvent, type AuditLog } from '../audit/events.ts';
import { type RecordAnonymous, recorderFor } from '../audit/bounded-records.ts';
import type { Logger } from '../logger.ts';
import type { Identity } from '../identity/identity.ts';
import type { Loa } from '../identity/loa.ts';
import { ProviderError, type ProviderAdapter, type StartAction, type StartResult } from '../broker/adapter.ts';
import { BrokerError } from './broker-error.ts';
import {
  browserDigest,
  type LoginStates,
  newState,
  type LoginRecord,
  type LoginTrace,
  sameBrowser,
} from './login-state.ts';
import { describeOversized, digest, longestFieldLimit, oversizedField } from './answer-fields.ts';
import { verifyAnswer } from './verify.ts';
import { isResubmission, RESUBMITTED } from './resubmission.ts';
import { isStoreUnavailable } from '../store/store.ts';
import { providerLocale, type UiLocale } from './locale.ts';

export interface BrokerOptions {
  states: LoginStates;
  audit: AuditLog;
  logger: Logger;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  /** absolute callback URL for a provider id */
  callbackUrl(providerId: string): string;
  /** how a record no login can be found for is written (src/audit/bounded-records.ts); default audit.record */
  recordAnonymous?: RecordAnonymous | undefined;
}

export interface BeginRequest {
  uid: string;
  clientId: string;
  providerId: string;
  acr?: Loa | undefined;
  /** the service's max_age (s), kept with the login for the answer's freshness (./verify.ts) */
  maxAge?: number | undefined;
  locale: UiLocale;
  correlationId: string;
  /** the binding value of the browser that begins the login (src/web/browser-binding.ts) */
  browser: string;
  /** the caller's own entry (the provider choice), written just before the broker's in the same write */
  alongside?: AuditEvent | undefined;
}

export class Broker {
  private readonly options: BrokerOptions;

  constructor(options: BrokerOptions) {
    this.options = options;
  }

  /** Whether a provider of this id is offered (passed its onboarding rules). */
  has(providerId: string): boolean {
    return this.options.adapters.has(providerId);
  }

  /** The latest login started for an interaction (its provider), while it lives. */
  loginOf(uid: string): Promise<LoginTrace | undefined> {
    return this.options.states.ofInteraction(uid);
  }

  /** The encoding provider `providerId`'s page posts its answer in, when its adapter declares one. */
  answerCharset(providerId: string): string | undefined {
    return this.options.adapters.get(providerId)?.answerCharset;
  }

  /** The longest callback field any provider accepts (a SAML response is the longest). */
  longestCallbackField(): number {
    return longestFieldLimit(this.options.adapters.values());
  }

  async begin(req: BeginRequest): Promise<{ state: string; action: StartAction }> {
    const { states, audit, adapters, callbackUrl } = this.options;
    const adapter = adapters.get(req.providerId);
    if (!adapter) throw new BrokerError('unknown_provider', `no provider ${JSON.stringify(req.providerId)}`);
    const state = newState();
    const browser = browserDigest(req.browser);
    const base = { correlationId: req.correlationId, clientId: req.clientId, providerId: req.providerId };
    // both entries recorded in one tick: one durable write, the caller's first
    const withAlongside = (event: AuditEvent) =>
      Promise.all([...(req.alongside ? [audit.record(req.alongside)] : []), audit.record(event)]);
    let started: StartResult;
    try {
      started = await adapter.start({
        state,
        callbackUrl: callbackUrl(adapter.id),
        acr: req.acr,
        locale: providerLocale(req.locale),
        pageLocale: req.locale,
        correlationId: req.correlationId,
        clientId: req.clientId,
        browser,
      });
    } catch (err) {
      // our store, not the provider, failed (a replay cache): the outage answer, not "provider unavailable"
      if (isStoreUnavailable(err)) throw err;
      const detail = err instanceof ProviderError ? err.detail : (err as Error).message;
      await withAlongside({ ...base, type: 'provider_request_error', detail: { reason: detail } });
      throw new BrokerError(err instanceof ProviderError ? err.code : 'temporarily_unavailable', detail);
    }
    const { uid, providerId, clientId, acr, maxAge, locale, correlationId } = req;
    const login = {
      uid,
      providerId,
      clientId,
      acr,
      ...(maxAge !== undefined ? { maxAge } : {}),
      locale,
      correlationId,
      browser,
      connData: started.connData,
    };
    await states.create(state, { ...login, createdAt: Date.now() });
    await withAlongside({
      ...base,
      type: 'provider_request',
      detail: {
        digest: started.requestDigest ?? digest(started.action),
        binding: started.action.type,
        acr: acr ?? null,
      },
    });
    return { state, action: started.action };
  }

  /** Verify a provider callback that came through the browser carrying binding value `browser`. Throws
   * BrokerError; `login` is set on it whenever the state was valid. */
  async complete(
    providerId: string,
    params: Record<string, string>,
    method: 'GET' | 'POST',
    browser: string | undefined,
  ): Promise<{ login: LoginRecord; identity: Identity }> {
    const { states, audit, logger, adapters } = this.options;
    const adapter = adapters.get(providerId);
    if (!adapter)
      throw new BrokerError('unknown_provider', `callback for unknown provider ${JSON.stringify(providerId)}`);
    // a field beyond its protocol's limit is refused before any parsing; the login still ends properly
    const oversized = oversizedField(adapter, params);
    const state = adapter.stateFrom(params);
    // the callback route is part of the answer: the same fields at another provider's are another answer
    const answer = digest({ providerId, params });
    const taken = state ? await states.takeLive(state, { answer, browser }) : undefined;
    if (!taken?.login) {
      const spent = taken?.spent;
      // the answer that took the state, posted again by its browser: not verified again (./resubmission.ts)
      const resubmitted = !oversized && !!spent && isResubmission(spent, answer, browser);
      const reason = oversized
        ? describeOversized(oversized)
        : resubmitted
          ? RESUBMITTED
          : state
            ? 'unknown, expired or already used state'
            : 'callback carries no state';
      logger.warn('provider callback without a live login', { providerId, reason, correlationId: spent?.uid });
      const event = {
        type: 'provider_response_error',
        correlationId: spent?.uid,
        providerId,
        detail: { reason, digest: digest(params) },
      } as const;
      // a replayed answer of a login is that login's record; one no login issued is anyone's to send
      await recorderFor(audit, this.options.recordAnonymous, !!spent)(event);
      const code = oversized ? 'oversized' : resubmitted ? 'resubmitted' : 'unknown_state';
      throw new BrokerError(code, reason, undefined, spent);
    }
    const { login, spentRecorded } = taken;
    try {
      // an answer brought by another browser ends the login unread: whoever holds the browser that began it
      // (perhaps an attacker who led this person to the provider) must not get this person's identity
      if (!sameBrowser(login, browser)) await this.refuseOtherBrowser(login, params, !!browser, spentRecorded);
      const [identity] = await Promise.all([
        verifyAnswer(this.options, { adapter, login, params, method, oversized }),
        spentRecorded,
      ]);
      return { login, identity };
    } catch (err) {
      // the login is known: the service must still hear back, even when its audit trail cannot be written
      if (err instanceof AuditUnavailableError)
        throw new BrokerError('audit_unavailable', 'audit log unavailable', login);
      if (err instanceof ProviderError) throw new BrokerError(err.code, err.detail, login, undefined, err.userInformed);
      throw err;
    }
  }

  private async refuseOtherBrowser(
    login: LoginRecord,
    params: Record<string, string>,
    carriedOne: boolean,
    spentRecorded: Promise<void>,
  ): Promise<never> {
    const reason = carriedOne
      ? 'answer arrived in another browser than the login began in'
      : 'answer arrived in a browser without the login binding cookie';
    this.options.logger.warn('provider answer refused', {
      correlationId: login.correlationId,
      providerId: login.providerId,
      reason,
    });
    await Promise.all([
      spentRecorded,
      this.options.audit.record({
        type: 'provider_response_error',
        correlationId: login.correlationId,
        clientId: login.clientId,
        providerId: login.providerId,
        detail: { reason, digest: digest(params) },
      }),
    ]);
    throw new BrokerError('other_browser', reason, login);
  }
}

// The broker pipeline between the OIDC interaction and a provider adapter:
// begin() stores the login and asks the adapter where to send the user; complete() finds the login by the
// protocol's own state, takes it (single use), lets the adapter verify the answer, normalises the identity
// and checks the level of assurance. Every step lands in the audit log.
import { createHash } from 'node:crypto';
import { AuditUnavailableError, type AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { normalizeIdentity, IdentityError, type Identity } from '../identity/identity.ts';
import { loaSatisfies, type Loa } from '../identity/loa.ts';
import { ProviderError, runCallback, type Locale, type ProviderAdapter, type StartAction } from './adapter.ts';
import { type LoginStates, newState, type LoginRecord, type LoginTrace } from './login-state.ts';

/** Longest callback field value when the adapter declares no limit: far above anything banklink or
 * OpenID Connect send (a VK_MAC of an 8192-bit key, an authorization code, a state). */
export const DEFAULT_FIELD_LIMIT = 4096;
const MAX_FIELD_NAME = 100;

/** The first callback field longer than the adapter allows, if any. */
export function oversizedField(
  adapter: ProviderAdapter,
  params: Record<string, string>,
): { name: string; limit: number } | undefined {
  const limits = adapter.callbackFieldLimits ?? {};
  for (const [name, value] of Object.entries(params)) {
    const limit = limits[name] ?? limits['*'] ?? DEFAULT_FIELD_LIMIT;
    // the name is the sender's too: quoted only when it looks like a protocol field name
    const shown = /^[A-Za-z0-9_.-]{1,40}$/.test(name) ? name : 'with an unexpected name';
    if (name.length > MAX_FIELD_NAME) return { name: shown, limit: MAX_FIELD_NAME };
    if (value.length > limit) return { name: shown, limit };
  }
  return undefined;
}

export interface BrokerOptions {
  states: LoginStates;
  audit: AuditLog;
  logger: Logger;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  /** absolute callback URL for a provider id */
  callbackUrl(providerId: string): string;
}

export interface BeginRequest {
  uid: string;
  clientId: string;
  providerId: string;
  acr?: Loa | undefined;
  locale: Locale;
  correlationId: string;
}

/** A failed callback; `login` is known when the state was valid, so the relying party can be told. */
export class BrokerError extends Error {
  override name = 'BrokerError';
  readonly code: ProviderError['code'] | 'unknown_state' | 'unknown_provider' | 'oversized' | 'audit_unavailable';
  readonly detail: string;
  readonly login: LoginRecord | undefined;
  /** without a live login: the one a replayed or replaced state belonged to (for the way back) */
  readonly spent: LoginTrace | undefined;
  constructor(code: BrokerError['code'], detail: string, login?: LoginRecord, spent?: LoginTrace) {
    super(`${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
    this.login = login;
    this.spent = spent;
  }
}

export function digest(value: unknown): string {
  return (
    'sha256:' +
    createHash('sha256')
      .update(typeof value === 'string' ? value : JSON.stringify(value))
      .digest('base64url')
  );
}

export class Broker {
  private readonly o: BrokerOptions;

  constructor(options: BrokerOptions) {
    this.o = options;
  }

  adapter(providerId: string): ProviderAdapter | undefined {
    return this.o.adapters.get(providerId);
  }

  /** The latest login started for an interaction (its provider), while it lives. */
  loginOf(uid: string): Promise<LoginTrace | undefined> {
    return this.o.states.ofInteraction(uid);
  }

  adapterIds(): string[] {
    return [...this.o.adapters.keys()];
  }

  async begin(req: BeginRequest): Promise<{ state: string; action: StartAction }> {
    const adapter = this.o.adapters.get(req.providerId);
    if (!adapter) throw new BrokerError('unknown_provider', `no provider ${JSON.stringify(req.providerId)}`);
    const state = newState();
    const base = { correlationId: req.correlationId, clientId: req.clientId, providerId: req.providerId };
    let started;
    try {
      started = await adapter.start({
        state,
        callbackUrl: this.o.callbackUrl(adapter.id),
        acr: req.acr,
        locale: req.locale,
        correlationId: req.correlationId,
      });
    } catch (err) {
      const detail = err instanceof ProviderError ? err.detail : (err as Error).message;
      await this.o.audit.record({ ...base, type: 'provider_request_error', detail: { reason: detail } });
      throw new BrokerError(err instanceof ProviderError ? err.code : 'temporarily_unavailable', detail);
    }
    await this.o.states.create(state, {
      uid: req.uid,
      providerId: req.providerId,
      clientId: req.clientId,
      acr: req.acr,
      locale: req.locale,
      correlationId: req.correlationId,
      connData: started.connData,
      createdAt: Date.now(),
    });
    await this.o.audit.record({
      ...base,
      type: 'provider_request',
      detail: {
        digest: started.requestDigest ?? digest(started.action),
        binding: started.action.type,
        acr: req.acr ?? null,
      },
    });
    return { state, action: started.action };
  }

  /** Verify a provider callback. Throws BrokerError; `login` is set on it whenever the state was valid. */
  async complete(
    providerId: string,
    params: Record<string, string>,
    method: 'GET' | 'POST',
  ): Promise<{ login: LoginRecord; identity: Identity }> {
    const adapter = this.o.adapters.get(providerId);
    if (!adapter)
      throw new BrokerError('unknown_provider', `callback for unknown provider ${JSON.stringify(providerId)}`);
    // a field beyond its protocol's limit is refused before any parsing; the login still ends properly
    const oversized = oversizedField(adapter, params);
    const state = adapter.stateFrom(params);
    const login = state ? await this.o.states.take(state) : undefined;
    if (!login) {
      const spent = state ? await this.o.states.spent(state) : undefined;
      const reason = oversized
        ? `field ${oversized.name} longer than ${oversized.limit} characters`
        : state
          ? 'unknown, expired or already used state'
          : 'callback carries no state';
      this.o.logger.warn('provider callback without a live login', { providerId, reason, correlationId: spent?.uid });
      await this.o.audit.record({
        type: 'provider_response_error',
        correlationId: spent?.uid,
        providerId,
        detail: { reason, digest: digest(params) },
      });
      throw new BrokerError(oversized ? 'oversized' : 'unknown_state', reason, undefined, spent);
    }
    try {
      return await this.verify(adapter, login, params, method, oversized);
    } catch (err) {
      // the login is known: the service must still hear back, even when its audit trail cannot be written
      if (err instanceof AuditUnavailableError)
        throw new BrokerError('audit_unavailable', 'audit log unavailable', login);
      throw err;
    }
  }

  private async verify(
    adapter: ProviderAdapter,
    login: LoginRecord,
    params: Record<string, string>,
    method: 'GET' | 'POST',
    oversized: { name: string; limit: number } | undefined,
  ): Promise<{ login: LoginRecord; identity: Identity }> {
    const providerId = adapter.id;
    const base = { correlationId: login.correlationId, clientId: login.clientId, providerId };
    if (login.providerId !== providerId) {
      await this.o.audit.record({
        ...base,
        type: 'provider_response_error',
        detail: { reason: `state belongs to provider ${login.providerId}` },
      });
      throw new BrokerError('invalid_response', 'state belongs to another provider', login);
    }
    if (oversized) {
      const reason = `field ${oversized.name} longer than ${oversized.limit} characters`;
      this.o.logger.warn('provider callback refused', { ...base, code: 'oversized', detail: reason });
      await this.o.audit.record({
        ...base,
        type: 'provider_response_error',
        detail: { reason, digest: digest(params) },
      });
      throw new BrokerError('invalid_response', reason, login);
    }
    await this.o.audit.record({ ...base, type: 'provider_response', detail: { digest: digest(params), method } });
    try {
      const result = await runCallback(adapter, {
        params,
        method,
        connData: login.connData,
        acr: login.acr,
        callbackUrl: this.o.callbackUrl(providerId),
        correlationId: login.correlationId,
        loginStartedAt: login.createdAt,
      });
      const identity = normalizeIdentity(result.identity, providerId);
      if (!loaSatisfies(identity.loa, login.acr))
        throw new ProviderError('loa_too_low', `achieved ${identity.loa}, requested ${login.acr}`);
      await this.o.audit.record({
        ...base,
        type: 'verification',
        person: { subject: identity.subject },
        detail: {
          outcome: 'verified',
          loa: identity.loa,
          amr: identity.amr,
          digest: result.responseDigest ?? digest(params),
        },
      });
      return { login, identity };
    } catch (err) {
      if (err instanceof AuditUnavailableError) throw err;
      const code = err instanceof ProviderError ? err.code : 'invalid_response';
      // an unexpected error's message may quote the provider's answer (personal data): keep only its type
      const detail =
        err instanceof ProviderError || err instanceof IdentityError
          ? err.message
          : `adapter failure: ${(err as Error)?.name ?? 'unknown error'}`;
      this.o.logger.warn('provider callback refused', { ...base, code, detail });
      await this.o.audit.record({ ...base, type: 'verification_error', detail: { code, reason: detail } });
      throw new BrokerError(code, detail, login);
    }
  }
}

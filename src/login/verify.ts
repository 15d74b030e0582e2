// Steps 4 to 6 of the login (see ./flow.ts): the adapter verifies the provider's answer (signature,
// replay, freshness), the identity is normalised into claims (src/identity/identity.ts), and its level is
// checked against the one the service requested. Each outcome lands in the audit log; a refusal is a
// ProviderError whose code becomes the OAuth error the service gets.
import { AuditUnavailableError, type AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { normalizeIdentity, IdentityError, type Identity } from '../identity/identity.ts';
import { loaSatisfies, type Loa } from '../identity/loa.ts';
import { ProviderError, runCallback, type ProviderAdapter } from '../broker/adapter.ts';
import type { LoginRecord } from './login-state.ts';
import { isStoreUnavailable } from '../store/store.ts';
import { describeOversized, digest, type OversizedField } from './answer-fields.ts';

export interface VerifyDeps {
  audit: AuditLog;
  logger: Logger;
  /** absolute callback URL for a provider id */
  callbackUrl(providerId: string): string;
}

/** A provider's answer to a live login. */
export interface Answer {
  adapter: ProviderAdapter;
  login: LoginRecord;
  params: Record<string, string>;
  method: 'GET' | 'POST';
  /** a field beyond its limit: the answer is refused unread */
  oversized: OversizedField | undefined;
}

/** When the service sent max_age, that many seconds before now (ms): the authentication must not be older.
 * OpenID Connect Core 3.1.2.1 has the OP authenticate the person again once max_age has passed: an answer
 * the provider gave in time but that is brought back later (an answer page left open on a shared computer)
 * is then no longer fresh enough. It bounds the answer besides the login's start, which an entry's own
 * upstream max_age may widen; this bound it may not. */
export function maxAgeBound(login: Pick<LoginRecord, 'maxAge'>, now = Date.now()): number | undefined {
  return login.maxAge === undefined ? undefined : now - login.maxAge * 1000;
}

/** Step 6: a verified identity below the requested level is refused (unmet_authentication_requirements). */
export function checkLevel(achieved: Loa, requested: Loa | undefined): void {
  if (!loaSatisfies(achieved, requested))
    throw new ProviderError('loa_too_low', `achieved ${achieved}, requested ${requested}`);
}

export async function verifyAnswer(deps: VerifyDeps, answer: Answer): Promise<Identity> {
  const { adapter, login, params, method } = answer;
  const providerId = adapter.id;
  const base = { correlationId: login.correlationId, clientId: login.clientId, providerId };
  const refuseUnread = async (reason: string, detail: Record<string, unknown>) => {
    await deps.audit.record({ ...base, type: 'provider_response_error', detail });
    return new ProviderError('invalid_response', reason);
  };
  if (login.providerId !== providerId)
    throw await refuseUnread('state belongs to another provider', {
      reason: `state belongs to provider ${login.providerId}`,
    });
  if (answer.oversized) {
    const reason = describeOversized(answer.oversized);
    deps.logger.warn('provider callback refused', { ...base, code: 'oversized', detail: reason });
    throw await refuseUnread(reason, { reason, digest: digest(params) });
  }
  // the answer's entry is written with the verdict's, in one tick: one durable write for both,
  // durable before the login goes on either way
  const received = { ...base, type: 'provider_response', detail: { digest: digest(params), method } } as const;
  try {
    const result = await runCallback(adapter, {
      params,
      method,
      connData: login.connData,
      acr: login.acr,
      callbackUrl: deps.callbackUrl(providerId),
      correlationId: login.correlationId,
      loginStartedAt: login.createdAt,
      authenticatedNotBefore: maxAgeBound(login),
    });
    const identity = normalizeIdentity(result.identity, providerId);
    checkLevel(identity.loa, login.acr);
    // the provider's own values behind the identity (banklink's VK_USER_NAME as sent, before decoding and
    // splitting) are kept for the audit trail as released claims are: encrypted to the auditor, never plain
    const { raw } = result.identity;
    const person = { subject: identity.subject, ...(raw && Object.keys(raw).length ? { claims: raw } : {}) };
    await Promise.all([
      deps.audit.record(received),
      deps.audit.record({
        ...base,
        type: 'verification',
        person,
        detail: {
          outcome: 'verified',
          loa: identity.loa,
          amr: identity.amr,
          digest: result.responseDigest ?? digest(params),
        },
      }),
    ]);
    return identity;
  } catch (err) {
    // an outage of our store is not the provider's answer being wrong: the user is told to try again
    if (err instanceof AuditUnavailableError || isStoreUnavailable(err)) throw err;
    const code = err instanceof ProviderError ? err.code : 'invalid_response';
    // an unexpected error's message may quote the provider's answer (personal data): keep only its type
    const detail =
      err instanceof ProviderError || err instanceof IdentityError
        ? err.message
        : `adapter failure: ${(err as Error)?.name ?? 'unknown error'}`;
    deps.logger.warn('provider callback refused', { ...base, code, detail });
    await Promise.all([
      deps.audit.record(received),
      deps.audit.record({ ...base, type: 'verification_error', detail: { code, reason: detail } }),
    ]);
    throw new ProviderError(code, detail, { userInformed: err instanceof ProviderError && err.userInformed });
  }
}

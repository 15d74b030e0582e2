// Fresh authentication: the time a provider says the person authenticated (OIDC auth_time, SAML
// AuthnInstant, banklink VK_DATETIME) must fall inside this login's window. A provider that reuses its
// single sign-on session (on a shared computer: the previous person's) answers with an older time, which
// is refused here however valid its signature; the gateway never passes such an answer off as new.
import { type AuthenticationWindow, ProviderError } from './adapter.ts';

export interface FreshnessPolicy {
  /** tolerated clock difference between the provider and the gateway, either way */
  clockSkewSeconds: number;
  /** extra age an authentication may have at the start of this login (the entry's upstream max_age); default 0;
   * it never widens the service's max_age bound (OpenID Connect Core 3.1.2.1), to which only the skew applies */
  maxAgeSeconds?: number;
}

/**
 * The provider's authentication time (ms since the epoch) checked against this login's window, as the
 * callback context carries it (pass the context itself): not before the login started (less skew and max
 * age), not before the service's max_age bound (less skew) and not after now (plus skew). Returns it in
 * whole seconds, as the ID token's auth_time carries it. Throws invalid_response with the reason.
 */
export function freshAuthTime(
  authTimeMs: number | undefined,
  window: AuthenticationWindow,
  policy: FreshnessPolicy,
  what: string,
  now = Date.now(),
): number {
  if (typeof authTimeMs !== 'number' || !Number.isFinite(authTimeMs) || authTimeMs <= 0) {
    throw new ProviderError(
      'invalid_response',
      `${what} is missing: the provider does not say when the person authenticated`,
    );
  }
  const { loginStartedAt, authenticatedNotBefore: notBefore } = window;
  if (!Number.isFinite(loginStartedAt) || loginStartedAt <= 0)
    throw new ProviderError('invalid_response', 'login carries no start time');
  const allowanceS = policy.clockSkewSeconds + (policy.maxAgeSeconds ?? 0);
  // provider times often have whole seconds: an authentication in the login's first second is not early
  const earliest = Math.floor(loginStartedAt / 1000) * 1000 - allowanceS * 1000;
  if (authTimeMs < earliest) {
    const early = Math.round((loginStartedAt - authTimeMs) / 1000);
    throw new ProviderError(
      'invalid_response',
      `${what} is ${early} s before this login started (allowed ${allowanceS} s): an earlier authentication was reused`,
    );
  }
  if (notBefore !== undefined && authTimeMs < notBefore - policy.clockSkewSeconds * 1000) {
    throw new ProviderError(
      'invalid_response',
      `${what} is older than the service's max_age allows (${Math.round((notBefore - authTimeMs) / 1000)} s beyond it): the answer came back too late`,
    );
  }
  if (authTimeMs > now + policy.clockSkewSeconds * 1000) {
    throw new ProviderError(
      'invalid_response',
      `${what} is ${Math.round((authTimeMs - now) / 1000)} s in the future (allowed clock skew ${policy.clockSkewSeconds} s)`,
    );
  }
  return Math.floor(authTimeMs / 1000);
}

// Step 2 of the login (./flow.ts): the chosen provider (a click on the selection page or an idp_hint) is
// checked against the policy, the starts of one interaction are counted, and the broker stores the login
// state and asks the adapter where to send the user (./broker.ts).
import type { UiLocale } from './locale.ts';
import type { Loa } from '../identity/loa.ts';
import { BrokerError } from './broker-error.ts';
import { requestedLoa, requestedMaxAge } from './policy.ts';
import type { Interaction, LoginDeps, Outcome } from './step.ts';
import { startsKey } from './interaction-markers.ts';

export interface StartRequest {
  uid: string;
  clientId: string;
  providerId: string;
  acr: Loa | undefined;
  /** the service's max_age (s): how long ago the person may have authenticated when the login ends */
  maxAge?: number | undefined;
  locale: UiLocale;
  /** the binding value of the browser that starts (src/web/browser-binding.ts) */
  browser: string;
}

/** The provider the user picked on the selection page. */
export function chooseProvider(
  deps: LoginDeps,
  interaction: Interaction,
  providerId: string,
  locale: UiLocale,
  browser: string,
): Promise<Outcome> {
  const { uid, params } = interaction;
  const acr = requestedLoa(params.acr_values);
  const maxAge = requestedMaxAge(params.max_age);
  return startProvider(deps, { uid, clientId: String(params.client_id), providerId, acr, maxAge, locale, browser });
}

export async function startProvider(deps: LoginDeps, request: StartRequest): Promise<Outcome> {
  const { uid, clientId, providerId, acr, maxAge, locale, browser } = request;
  const selection = `/interaction/${uid}`;
  if (!deps.policy.allows(clientId, providerId, acr))
    return {
      type: 'refuse',
      status: 400,
      problem: 'provider',
      retry: selection,
      end: { uid, reason: 'cancel', clientId },
      reference: uid,
    };
  // Each start writes audit entries and a login state: a login may start only a few (reloads included);
  // the earlier login state is replaced each time (LoginStates.create).
  const { providerStarts, interactionTtlSeconds } = deps.limits;
  const { count } = await deps.store.increment(startsKey(uid), interactionTtlSeconds);
  if (count > providerStarts) {
    deps.logger.warn('provider start refused', { correlationId: uid, providerId, starts: count });
    if (count === providerStarts + 1)
      await deps.audit.record({
        type: 'provider_request_error',
        correlationId: uid,
        clientId,
        providerId,
        detail: { reason: `more than ${providerStarts} provider starts in one login` },
      });
    return {
      type: 'refuse',
      status: 429,
      problem: 'too_many_starts',
      end: { uid, reason: 'too_many_starts', clientId },
      reference: uid,
    };
  }
  // the choice is written together with the broker's request entry (one durable write), both durable
  // before the user is sent to the provider
  const chosen = {
    type: 'provider_chosen',
    correlationId: uid,
    clientId,
    providerId,
    detail: { acr: acr ?? null },
  } as const;
  try {
    const { action } = await deps.broker.begin({
      uid,
      clientId,
      providerId,
      acr,
      maxAge,
      locale,
      correlationId: uid,
      browser,
      alongside: chosen,
    });
    return action;
  } catch (err) {
    if (!(err instanceof BrokerError)) throw err;
    deps.logger.warn('provider start failed', { correlationId: uid, providerId, code: err.code, detail: err.detail });
    return {
      type: 'refuse',
      status: 502,
      problem: 'provider_unavailable',
      retry: selection,
      end: { uid, reason: 'unavailable', clientId },
      reference: uid,
    };
  }
}

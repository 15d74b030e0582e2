// The way back: a login that cannot go on (cancelled on the selection page, a replayed answer, a reloaded
// hand-back, too many starts, the audit log down) ends with an OAuth error at the service's redirect_uri
// (RFC 6749 4.1.2.1), so the service always hears how its authorization request ended.
import type { InteractionResults } from 'oidc-provider';
import type { EndReason, Interaction, LoginDeps, Outcome } from './step.ts';

/** How each way back ends a login: the OAuth error the service gets, and why (for the audit log). */
export const ENDINGS: Record<EndReason, { error: string; description: string }> = {
  cancel: { error: 'user_cancel', description: 'the user cancelled the authentication' },
  interrupted: { error: 'access_denied', description: 'the login was interrupted: a step was reloaded or sent again' },
  expired: { error: 'access_denied', description: 'the login expired while the user was at the provider' },
  too_many_starts: { error: 'access_denied', description: 'authentication was started too many times in this login' },
  unavailable: { error: 'temporarily_unavailable', description: 'the login service is temporarily unavailable' },
  // the per-address limit sheds load for a window (Retry-After), nothing the user did is refused for good:
  // RFC 6749 4.1.2.1's temporarily_unavailable (temporary overloading) tells the service to offer a later
  // try, where access_denied would read as a final refusal of this user
  rate_limited: {
    error: 'temporarily_unavailable',
    description: 'too many requests came from the user address; the login may be tried again later',
  },
};

/** The engine's result that ends a login with an OAuth error. */
export function oauthError(error: string, description: string): Outcome {
  const result: InteractionResults = { error, error_description: description };
  return { type: 'finish', result };
}

/** Fail closed without leaving the service waiting: a login whose audit record cannot be written ends
 * with temporarily_unavailable instead of a dead-end page. */
export function auditUnavailable(): Outcome {
  return oauthError(ENDINGS.unavailable.error, ENDINGS.unavailable.description);
}

/** Ends the login the user leaves from one of our pages. Audited once per interaction however often
 * it is posted; `requested` is the page's reason, anything unknown counts as a cancel. */
export async function endLogin(deps: LoginDeps, interaction: Interaction, requested: string): Promise<Outcome> {
  const reason: EndReason = Object.hasOwn(ENDINGS, requested) ? (requested as EndReason) : 'cancel';
  const ending = ENDINGS[reason];
  if (await deps.store.setIfAbsent(`ended:${interaction.uid}`, '1', deps.limits.interactionTtlSeconds)) {
    const providerId = (await deps.broker.loginOf(interaction.uid))?.providerId;
    await deps.audit.record({
      type: 'verification_error',
      correlationId: interaction.uid,
      clientId: String(interaction.params.client_id),
      providerId,
      detail: {
        code: ending.error,
        reason: reason === 'cancel' ? 'cancelled on the selection page' : ending.description,
      },
    });
  }
  return oauthError(ending.error, ending.description);
}

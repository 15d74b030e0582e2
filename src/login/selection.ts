// Step 1 of the login (./flow.ts): the first visit of an interaction. The authorization request is
// audited once; an idp_hint goes straight on to that provider (step 2), otherwise the user is offered the
// providers the policy allows this client at the requested level; so is a user who comes back from a
// refusal to choose another provider (`choose`), whatever the hint.
import type { UiLocale } from './locale.ts';
import { requestedLoa, requestedMaxAge } from './policy.ts';
import { startProvider } from './start.ts';
import { grantConsent } from './hand-back.ts';
import type { Interaction, LoginDeps, Outcome } from './step.ts';
import { seenKey } from './interaction-markers.ts';

export async function openInteraction(
  deps: LoginDeps,
  interaction: Interaction,
  locale: UiLocale,
  browser: string,
  choose = false,
): Promise<Outcome> {
  const { uid, prompt, params } = interaction;
  if (prompt.name === 'consent') return grantConsent(deps, interaction);
  const clientId = String(params.client_id);
  const acr = requestedLoa(params.acr_values);
  if (await deps.store.setIfAbsent(seenKey(uid), '1', deps.limits.interactionTtlSeconds)) {
    await deps.audit.record({
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
  if (typeof params.idp_hint === 'string' && !choose)
    return startProvider(deps, {
      uid,
      clientId,
      providerId: params.idp_hint,
      acr,
      maxAge: requestedMaxAge(params.max_age),
      locale,
      browser,
    });
  const client = await deps.engine.Client.find(clientId);
  return {
    type: 'choose',
    uid,
    clientId,
    clientName: client?.clientName ?? clientId,
    providers: deps.policy.providersFor(clientId, acr),
  };
}

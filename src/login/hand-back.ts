// Step 7 of the login (./flow.ts): the result goes back to the engine. A verified identity becomes the
// login and, in the same step, the consent: registered agency services need no consent screen, and the
// grant created here is what the identity of this login is stored under (./accounts.ts) until the
// engine asks for its claims (step 8, ./claims.ts). A failure becomes the OAuth error the service gets.
import { oauthError } from './ending.ts';
import type { Interaction, LoginDeps, Outcome } from './step.ts';

export async function handBack(deps: LoginDeps, interaction: Interaction): Promise<Outcome> {
  const { uid, params } = interaction;
  const result = await deps.results.take(uid);
  // reloaded (the result is single use) or reached before any provider answered: the way back
  if (!result)
    return { type: 'refuse', status: 400, problem: 'interrupted', end: { uid, reason: 'interrupted' }, reference: uid };
  if (!result.ok) return oauthError(result.error, result.description);
  const { identity, correlationId } = result;
  const clientId = String(params.client_id);
  const grant = new deps.engine.Grant({ accountId: identity.subject, clientId });
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  // the grant's id is drawn when its save begins: the identity is stored under it in the same store round
  // trip (an account whose grant failed to save is never found, and expires with its TTL)
  const saved = grant.save();
  const stored = grant.jti ? deps.accounts.save(grant.jti, { identity, correlationId, clientId }) : undefined;
  const [grantId] = await Promise.all([saved, stored]);
  if (!stored) await deps.accounts.save(grantId, { identity, correlationId, clientId });
  const login = {
    accountId: identity.subject,
    acr: identity.loa,
    amr: identity.amr,
    remember: false,
    ts: identity.authTime,
  };
  return { type: 'finish', result: { login, consent: { grantId } } };
}

/** The engine asks for consent (a grant lacks scopes or claims): registered agency services get it, since
 * the user chose to log in to them. */
export async function grantConsent(deps: LoginDeps, interaction: Interaction): Promise<Outcome> {
  const { prompt, params, session, grantId: existing } = interaction;
  const grant = existing
    ? await deps.engine.Grant.find(existing)
    : new deps.engine.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
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
  return { type: 'finish', result: { consent: { grantId: await grant.save() } }, merge: true };
}

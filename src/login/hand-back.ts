// Step 7 of the login (./flow.ts): the result goes back to the engine. A verified identity becomes the
// login and, in the same step, the consent: registered agency services need no consent screen, and the
// grant created here is what the identity of this login is stored under (./accounts.ts) until the
// engine asks for its claims (step 8, ./claims.ts). A failure becomes the OAuth error the service gets.
// A verified identity is handed back by the callback itself (handBackAtCallback): the interaction is found
// by the login's own uid, so the browser goes straight on to the engine's resume, where the resume cookie
// (Path=/auth/<uid>) and the result's browser digest bind it to the browser that began the login. A
// failure waits, single use, for the page that explained it to link on to the hand-back (handBack).
import { oauthError } from './ending.ts';
import type { Identity } from '../identity/identity.ts';
import type { Interaction, LoginDeps, Outcome } from './step.ts';

type Finish = Extract<Outcome, { type: 'finish' }>['result'];

/** The login and its consent: a grant for the requested scopes, the identity stored under its id. */
async function loginAndConsent(
  deps: LoginDeps,
  params: Interaction['params'],
  identity: Identity,
  correlationId: string,
): Promise<Finish> {
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
  return { login, consent: { grantId } };
}

export async function handBack(deps: LoginDeps, interaction: Interaction): Promise<Outcome> {
  const { uid, params } = interaction;
  const result = await deps.results.take(uid);
  // reloaded (the result is single use) or reached before any provider answered: the way back
  if (!result) {
    const end = { uid, reason: 'interrupted', clientId: String(params.client_id) } as const;
    return { type: 'refuse', status: 400, problem: 'interrupted', end, reference: uid };
  }
  if (!result.ok) return oauthError(result.error, result.description);
  return { type: 'finish', result: await loginAndConsent(deps, params, result.identity, result.correlationId) };
}

/** The verified identity of login `uid` handed back from its callback: the engine's interaction gets the
 * result as its interactionFinished would write it, with the digest of the browser the answer came back
 * through, which alone may resume it (src/oidc/interaction-policy.ts), and the browser goes on to the
 * engine's resume. */
export async function handBackAtCallback(
  deps: LoginDeps,
  verified: { uid: string; clientId: string; identity: Identity; correlationId: string; browser: string | undefined },
): Promise<Outcome> {
  const { uid, identity, correlationId, browser } = verified;
  const secondsLeft = (exp: number) => exp - Math.floor(Date.now() / 1000);
  // a failure of an earlier provider of this login, still waiting behind its page, goes in the same round
  // trip: that page returning by itself must not end the login this answer completes
  const [interaction] = await Promise.all([deps.engine.Interaction.find(uid), deps.results.take(uid)]);
  // expired while the user was at the provider: nothing to hand back to
  if (!interaction || secondsLeft(interaction.exp) < 1) return dropped(deps, verified, EXPIRED);
  // as the engine's interactionFinished: a session the interaction began in must still be that user's (another
  // login in the same browser may have replaced it meanwhile); the engine then refuses this interaction on
  // every page, the way back included, as it did at the hand-back page
  if (interaction.session?.uid) {
    const session = await deps.engine.Session.findByUid(interaction.session.uid);
    if (!session || session.accountId !== interaction.session.accountId)
      return dropped(deps, verified, 'the session the login began in ended or changed hands meanwhile');
  }
  interaction.result = { ...(await loginAndConsent(deps, interaction.params, identity, correlationId)), browser };
  const left = secondsLeft(interaction.exp);
  if (left < 1) return dropped(deps, verified, EXPIRED);
  await interaction.save(left);
  return { type: 'redirect', url: interaction.returnTo };
}

const EXPIRED = 'the login expired while the user was at the provider';

/** A verified identity that cannot be handed back: a warning and an audit record under the login's id, and a
 * page saying the login is no longer valid, with the service's home page as the way back. */
async function dropped(deps: LoginDeps, login: { uid: string; clientId: string }, reason: string): Promise<Outcome> {
  const { uid, clientId } = login;
  deps.logger.warn('verified answer not handed back', { correlationId: uid, reason });
  await deps.audit.record({ type: 'error', correlationId: uid, clientId, detail: { reason } });
  return { type: 'refuse', status: 400, problem: 'interrupted', home: deps.serviceHome(clientId), reference: uid };
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

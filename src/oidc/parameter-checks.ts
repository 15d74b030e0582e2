// Checks of authorization request parameters, run by the engine (extraParams) before any interaction.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPolicy } from '../login/policy.ts';
import { SCOPES } from '../login/claims.ts';

type ParameterCheck = (ctx: KoaContextWithOIDC, value: unknown) => void;

/** As Estonia's broker: a scope we do not know (offline_access included: we issue no refresh tokens) is an
 * error, not silently dropped, and openid is required (an OpenID Connect service, not plain OAuth). The
 * engine has already dropped unknown scopes from `value`, so read the scope as the client sent it; a
 * pushed request (PAR) was checked like this when it was pushed. */
const scope: ParameterCheck = (ctx, value) => {
  const raw = ctx.oidc.entities.PushedAuthorizationRequest
    ? value
    : ctx.method === 'POST'
      ? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope
      : ctx.query.scope;
  const scopes = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s)).join(' ');
  if (unknown) throw new errors.InvalidScope(`unsupported scope: ${unknown.slice(0, 100)}`, unknown.slice(0, 100));
  if (!scopes.includes('openid')) throw new errors.InvalidScope('scope must include openid', 'openid');
};

/** Estonia's broker requires a state of at least 8 characters; so do we (CSRF protection for the RP). */
const state: ParameterCheck = (_ctx, value) => {
  if (typeof value !== 'string' || value.length < 8)
    throw new errors.InvalidRequest('state is required and must be at least 8 characters');
  if (value.length > 512) throw new errors.InvalidRequest('state is too long');
};

/** acr_values and idp_hint (a service naming one provider skips the selection page, as commercial
 * brokers' idp hints do) must be servable to this client: src/login/policy.ts decides. */
function policyChecks(policy: ProviderPolicy): Record<'acr_values' | 'idp_hint', ParameterCheck> {
  const refuse = (problem: string | undefined) => {
    if (problem) throw new errors.InvalidRequest(problem);
  };
  return {
    acr_values: (ctx, value) => refuse(policy.acrValuesProblem(ctx.oidc.client!.clientId, value)),
    idp_hint: (ctx, value) =>
      refuse(policy.idpHintProblem(ctx.oidc.client!.clientId, value, ctx.oidc.params?.acr_values)),
  };
}

export function parameterChecks(policy: ProviderPolicy): Configuration['extraParams'] {
  return { scope, state, ...policyChecks(policy) } as unknown as Configuration['extraParams'];
}

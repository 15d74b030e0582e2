// Checks of authorization request parameters, run by the engine (extraParams) before any interaction.
import { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { ProviderPolicy } from '../login/policy.ts';
import { SCOPES } from '../login/claims.ts';
import type { Logger } from '../logger.ts';

type ParameterCheck = (ctx: KoaContextWithOIDC, value: unknown) => void;

/** Unknown (client, scope) pairs already logged; bounded, since anyone may send any scope. */
const MAX_LOGGED_UNKNOWN_SCOPES = 1000;

/** OpenID Connect Core 3.1.2.1 / 11: scope values we do not know are ignored (logged once per client and
 * value, so the operator can tell a service what it will not get), `offline_access` included (no refresh
 * tokens are issued); openid is required (an OpenID Connect service, not plain OAuth). Only known values
 * go on to the grant and the token response. A pushed request (PAR) was checked like this when pushed. */
function scopeCheck(logger: Logger): ParameterCheck {
  const logged = new Set<string>();
  return (ctx, value) => {
    const raw = ctx.oidc.entities.PushedAuthorizationRequest
      ? value
      : ctx.method === 'POST'
        ? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope
        : ctx.query.scope;
    const scopes = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
    const known = (s: string) => (SCOPES as readonly string[]).includes(s);
    const clientId = ctx.oidc.client!.clientId;
    for (const unknown of scopes.filter((s) => !known(s))) {
      const key = `${clientId} ${unknown}`;
      if (logged.has(key) || logged.size >= MAX_LOGGED_UNKNOWN_SCOPES) continue;
      logged.add(key);
      logger.info('unknown scope value ignored (logged once per client and value)', {
        client_id: clientId,
        scope: unknown.slice(0, 100),
      });
    }
    if (!scopes.includes('openid')) throw new errors.InvalidScope('scope must include openid', 'openid');
    ctx.oidc.params!.scope = [...new Set(scopes.filter(known))].join(' ');
  };
}

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

export function parameterChecks(policy: ProviderPolicy, logger: Logger): Configuration['extraParams'] {
  return { scope: scopeCheck(logger), state, ...policyChecks(policy) } as unknown as Configuration['extraParams'];
}

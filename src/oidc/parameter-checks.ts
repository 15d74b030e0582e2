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

/** The engine keeps an authorization request's parameters in its Interaction for `ttl.interaction`: a
 * free-text one without a bound would let one anonymous request hold tens of kilobytes of the store for
 * that long. Generous for what relying parties send (a nonce of 32-64 characters, a few language tags);
 * the engine bounds code_challenge itself, and checks redirect_uri and id_token_hint against what it knows. */
export const PARAMETER_MAX_LENGTH = {
  nonce: 512,
  login_hint: 256,
  ui_locales: 128,
  claims_locales: 128,
  acr_values: 128,
  idp_hint: 128,
  // page, popup, touch or wap (OpenID Connect Core 3.1.2.1): the engine keeps any value
  display: 16,
  // a JWK SHA-256 thumbprint, 43 characters (RFC 9449 10)
  dpop_jkt: 64,
} as const;

const bounded =
  (name: keyof typeof PARAMETER_MAX_LENGTH, check?: ParameterCheck): ParameterCheck =>
  (ctx, value) => {
    if (typeof value === 'string' && value.length > PARAMETER_MAX_LENGTH[name])
      throw new errors.InvalidRequest(`${name} is longer than ${PARAMETER_MAX_LENGTH[name]} characters`);
    check?.(ctx, value);
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
  const policyCheck = policyChecks(policy);
  const checks: Record<string, ParameterCheck> = { scope: scopeCheck(logger), state };
  for (const name of Object.keys(PARAMETER_MAX_LENGTH) as (keyof typeof PARAMETER_MAX_LENGTH)[])
    checks[name] = bounded(name, name === 'acr_values' || name === 'idp_hint' ? policyCheck[name] : undefined);
  return checks as unknown as Configuration['extraParams'];
}

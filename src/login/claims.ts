// Step 8 of the login (./flow.ts): the engine asks for the claims of a token (ID token or userinfo) and
// gets the identity stored under its grant at the hand-back (step 7), cut down to the scopes granted
// (OpenID Connect Core 5.4). Every release is audited, the claims encrypted to the auditor when one is
// configured.
import type { FindAccount } from 'oidc-provider';
import type { AuditLog } from '../audit/events.ts';
import type { Identity } from '../identity/identity.ts';
import type { Accounts } from './accounts.ts';
import { countUserinfo, type UserinfoLimitDeps } from './userinfo-limit.ts';

/** Every scope a service may request; any other value is ignored (src/oidc/parameter-checks.ts). */
export const SCOPES = ['openid', 'profile', 'personal_code'] as const;

/** The claims each scope releases (ID token and userinfo alike); with openid also acr, amr and auth_time,
 * which the engine puts in the ID token from the login and claimsRelease adds to userinfo. */
export const SCOPE_CLAIMS: Record<(typeof SCOPES)[number], readonly string[]> = {
  openid: ['sub', 'idp'],
  profile: ['given_name', 'family_name', 'birthdate'],
  personal_code: ['personal_code', 'personal_code_country'],
};

export function identityClaims(identity: Identity): Record<string, string | undefined> {
  return {
    sub: identity.subject,
    idp: identity.idp,
    given_name: identity.givenName,
    family_name: identity.familyName,
    birthdate: identity.birthdate,
    personal_code: identity.personalCode,
    personal_code_country: identity.country,
  };
}

/** The claims of `identity` that `scope` grants, less those the user rejected. */
export function grantedClaims(identity: Identity, scope: string, rejected: readonly string[]): Record<string, string> {
  const granted = new Set(
    scope.split(' ').flatMap((s) => (SCOPE_CLAIMS as Record<string, readonly string[]>)[s] ?? []),
  );
  const released: Record<string, string> = {};
  for (const [name, value] of Object.entries(identityClaims(identity)))
    if (value !== undefined && granted.has(name) && !rejected.includes(name)) released[name] = value;
  return released;
}

/** The engine's findAccount: the account of the login a token's grant belongs to. */
export function claimsRelease(accounts: Accounts, audit: AuditLog, limit: UserinfoLimitDeps): FindAccount {
  return async (ctx, sub, token) => {
    const grantId = token?.grantId ?? ctx.oidc.entities.Grant?.jti;
    const account = grantId ? await accounts.getIn(ctx, grantId) : undefined;
    if (!account || account.identity.subject !== sub) {
      // at the authorization endpoint nothing is released; elsewhere an unknown login is no account
      return token ? undefined : { accountId: sub, claims: async () => ({ sub }) };
    }
    const { identity, correlationId, clientId } = account;
    return {
      accountId: sub,
      claims: async (use, scope, _claims, rejected) => {
        if (use === 'userinfo' && grantId) await countUserinfo(limit, ctx, grantId, account);
        // the ID token gets acr, amr and auth_time from the login itself (src/login/hand-back.ts); userinfo
        // from here, the same values
        const login = use === 'userinfo' ? { acr: identity.loa, amr: identity.amr, auth_time: identity.authTime } : {};
        const released = { ...grantedClaims(identity, scope, rejected), ...login, sub };
        await audit.record({
          type: 'identity_released',
          correlationId,
          clientId,
          providerId: identity.idp,
          person: { subject: sub, claims: released },
          detail: { use, claims: Object.keys(released).sort(), acr: identity.loa },
        });
        return released;
      },
    };
  };
}

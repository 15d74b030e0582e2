// The engine's login prompt, with two checks of ours. Every authorization request is authenticated
// afresh at a provider (as Estonia's state broker does): no silent single sign-on, so the level, the
// provider and the identity always belong to this login. And the person who authenticated must be the
// one an id_token_hint names.
import { decodeJwt } from 'jose';
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { PairwiseIdentifier } from './pairwise.ts';

const { Check } = interactionPolicy;

/** With prompt=none the engine answers with this check's error: the user must log in, nothing else helps. */
function freshAuthentication(): InstanceType<typeof Check> {
  return new Check('fresh_authentication', 'every request is authenticated at a provider', 'login_required', (ctx) =>
    ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
  );
}

/** id_token_hint names who the service expects. The engine compares it only at the authorization
 * endpoint, where nobody is logged in yet (we never keep a session), so compare it with whoever has just
 * authenticated: someone else is login_required (OpenID Connect Core 3.1.2.1), never their code. */
function idTokenHintSubject(pairwise: PairwiseIdentifier): InstanceType<typeof Check> {
  const refusal = 'the person who authenticated is not the one id_token_hint names';
  return new Check('id_token_hint_subject', refusal, 'login_required', async (ctx: KoaContextWithOIDC) => {
    const hint = ctx.oidc.params?.id_token_hint;
    const login = ctx.oidc.result?.login as { accountId?: string } | undefined;
    if (typeof hint !== 'string' || !login?.accountId) return Check.NO_NEED_TO_PROMPT;
    const client = ctx.oidc.client!;
    const expected = client.subjectType === 'pairwise' ? await pairwise(ctx, login.accountId, client) : login.accountId;
    let named: unknown;
    try {
      named = decodeJwt(hint).sub; // its signature was verified at the authorization endpoint
    } catch {
      named = undefined;
    }
    if (named !== expected) throw new errors.LoginRequired(refusal);
    return Check.NO_NEED_TO_PROMPT;
  });
}

export function freshLoginPolicy(pairwise: PairwiseIdentifier): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(freshAuthentication());
  login.checks.add(idTokenHintSubject(pairwise));
  return policy;
}

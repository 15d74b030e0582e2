// The engine's login prompt, with three checks of ours. Every authorization request is authenticated
// afresh at a provider (as Estonia's state broker does): no silent single sign-on, so the level, the
// provider and the identity always belong to this login. And the person who authenticated must be the
// one an id_token_hint names. And the browser that resumes a login must be the one whose provider answer
// completed it.
import type { IncomingMessage } from 'node:http';
import { decodeJwt } from 'jose';
import { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { PairwiseIdentifier } from './pairwise.ts';
import { isBeginningBrowser } from '../broker/adapter.ts';

/** The digest of a request's browser binding cookie (src/web/browser-binding.ts), or undefined. */
export type BrowserOf = (req: IncomingMessage) => string | undefined;

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
    if (named === expected) return Check.NO_NEED_TO_PROMPT;
    // the engine's resume has already logged this browser's session in as the person who authenticated
    await ctx.oidc.session?.destroy();
    throw new errors.LoginRequired(refusal);
  });
}

/** The login's result names the browser its provider answer came back through (the one that chose the
 * provider, src/login/hand-back.ts); the resume must come from that browser. The resume cookie alone does
 * not show it: the engine's path-scoped cookies are `__Secure-`, not `__Host-`, so a host under the same
 * site can plant another browser's interaction cookies in a victim's browser, let the victim authenticate
 * there, and resume in its own. A login result without the digest (written before it) is refused too. */
function sameBrowser(browserOf: BrowserOf): InstanceType<typeof Check> {
  const refusal = 'the login was completed in another browser than the one resuming it';
  return new Check('same_browser', refusal, 'access_denied', async (ctx: KoaContextWithOIDC) => {
    const result = ctx.oidc.result as { login?: unknown; browser?: unknown } | undefined;
    if (!result?.login) return Check.NO_NEED_TO_PROMPT;
    if (isBeginningBrowser(browserOf(ctx.req), result.browser)) return Check.NO_NEED_TO_PROMPT;
    // the engine's resume has already logged this browser's session in as the person: it must not keep it
    await ctx.oidc.session?.destroy();
    throw new errors.AccessDenied(refusal);
  });
}

export function freshLoginPolicy(
  pairwise: PairwiseIdentifier,
  browserOf: BrowserOf,
): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  const login = policy.get('login')!;
  login.checks.add(freshAuthentication());
  login.checks.add(sameBrowser(browserOf));
  login.checks.add(idTokenHintSubject(pairwise));
  return policy;
}

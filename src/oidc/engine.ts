// node-oidc-provider configured for agency services. The engine stays untouched: we supply clients,
// storage, keys, findAccount, claims, the interaction URL and policy tweaks, and error/logout pages.
import { createHmac, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import Provider, {
  errors,
  interactionPolicy,
  type Configuration,
  type KoaContextWithOIDC,
  type ClientMetadata,
} from 'oidc-provider';
import type { GatewayConfig } from '../config/load.ts';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import type { Logger } from '../logger.ts';
import { storeAdapterFactory } from './adapter.ts';
import { type Accounts, SCOPE_CLAIMS, identityClaims } from './accounts.ts';
import { LOA_LEVELS, isLoa, type Loa } from '../identity/loa.ts';
import type { SigningKeys } from './keys.ts';
import { errorPage } from '../web/views.ts';
import { pickLocale, t } from '../web/i18n.ts';
import { html, page, Html } from '../web/html.ts';
// issue 6: RFC 8705 client certificates at the token endpoint (native TLS or a trusted terminator's header)
import { mtlsFeature, mtlsEndpointAliases, CERTIFICATE_AUTH_METHODS } from '../tls/inbound.ts';

export interface OidcDeps {
  config: GatewayConfig;
  store: Store;
  keys: SigningKeys;
  accounts: Accounts;
  audit: AuditLog;
  logger: Logger;
  /** ids of providers that may serve this client at this level (for acr_values / idp_hint validation) */
  providersFor(clientId: string, acr: Loa | undefined): string[];
}

/** Every scope a service may request; anything else is refused with invalid_scope. */
export const SCOPES = ['openid', 'profile', 'personal_code'] as const;

/** First acr_values entry we know; requests name levels in preference order. */
export function requestedLoa(acrValues: unknown): Loa | undefined {
  if (typeof acrValues !== 'string') return undefined;
  return acrValues.split(' ').find(isLoa);
}

function clientMetadata(c: GatewayConfig['clients'][number]): ClientMetadata {
  return {
    client_id: c.client_id,
    ...(c.client_name ? { client_name: c.client_name } : {}),
    ...(c.client_secret ? { client_secret: c.client_secret } : {}),
    token_endpoint_auth_method: c.token_endpoint_auth_method,
    // a JSON round trip gives the engine plain objects (its isPlainObject check is strict about prototypes)
    ...(c.jwks ? { jwks: JSON.parse(JSON.stringify(c.jwks)) as ClientMetadata['jwks'] } : {}),
    ...(c.jwks_uri ? { jwks_uri: c.jwks_uri } : {}),
    ...(c.tls_client_auth_subject_dn ? { tls_client_auth_subject_dn: c.tls_client_auth_subject_dn } : {}),
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    id_token_signed_response_alg: c.id_token_signed_response_alg,
    subject_type: c.subject_type,
    scope: ['openid', ...c.scopes].join(' '),
    // issue 6: a service that authenticates with a certificate gets tokens bound to it (RFC 8705 §3)
    ...((CERTIFICATE_AUTH_METHODS as readonly string[]).includes(c.token_endpoint_auth_method)
      ? { tls_client_certificate_bound_access_tokens: true }
      : {}),
  };
}

/**
 * The engine's cookie names. Over https the session cookie (Path=/, no Domain, Secure) carries the
 * `__Host-` prefix (RFC 6265bis 4.1.3.2), so no sibling subdomain or plain-http page can set or
 * shadow it. The interaction and resume cookies are scoped to `/interaction/<uid>` and `/auth/<uid>`,
 * which `__Host-` forbids, so they keep `__Secure-` (Secure required, Path free).
 */
export function cookieNames(issuer: string): { session: string; interaction: string; resume: string } {
  if (!issuer.startsWith('https://'))
    return { session: '_session', interaction: '_interaction', resume: '_interaction_resume' };
  return { session: '__Host-session', interaction: '__Secure-interaction', resume: '__Secure-interaction_resume' };
}

export function createOidcProvider(deps: OidcDeps): Provider {
  const { config, accounts, audit, logger } = deps;
  const policy = interactionPolicy.base();
  // Every authorization request is authenticated afresh at a provider (as Estonia's state broker does):
  // no silent single sign-on, so the level, the provider and the identity always belong to this login.
  policy.get('login')!.checks.add(
    // with prompt=none the engine answers with this error: the user must log in, nothing else would help
    new interactionPolicy.Check(
      'fresh_authentication',
      'every request is authenticated at a provider',
      'login_required',
      (ctx) =>
        ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT,
    ),
  );
  // id_token_hint names who the service expects. The engine compares it only at the authorization endpoint,
  // where nobody is logged in yet (we never keep a session), so compare it with whoever has just
  // authenticated: someone else is login_required (OpenID Connect Core 3.1.2.1), never their code.
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(
      'id_token_hint_subject',
      'the person who authenticated is not the one id_token_hint names',
      'login_required',
      async (ctx) => {
        const hint = ctx.oidc.params?.id_token_hint;
        const login = ctx.oidc.result?.login as { accountId?: string } | undefined;
        if (typeof hint !== 'string' || !login?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        const client = ctx.oidc.client!;
        const expected =
          client.subjectType === 'pairwise' ? await pairwiseIdentifier(ctx, login.accountId, client) : login.accountId;
        let named: unknown;
        try {
          named = decodeJwt(hint).sub; // its signature was verified at the authorization endpoint
        } catch {
          named = undefined;
        }
        if (named !== expected)
          throw new errors.LoginRequired('the person who authenticated is not the one id_token_hint names');
        return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );

  // RFC 8705 client certificates at the token endpoint, when the server settings provide them (src/tls/inbound.ts)
  const mtls = mtlsFeature(config.server);
  // RFC 8705 §5: token, userinfo and revocation also on a listener that requests client certificates
  const mtlsAliases = mtlsEndpointAliases(config.server, config.issuer);
  const pairwiseSalt = config.pairwise_salt ?? '';
  const pairwiseIdentifier = async (
    _ctx: KoaContextWithOIDC,
    sub: string,
    client: { sectorIdentifier?: string | undefined; clientId: string },
  ) =>
    createHmac('sha256', pairwiseSalt)
      .update(`${client.sectorIdentifier ?? client.clientId}|${sub}`)
      .digest('base64url');
  const cookieKeys = config.cookie_keys ?? [randomBytes(32).toString('base64url')];

  const configuration: Configuration = {
    adapter: storeAdapterFactory(deps.store),
    clients: config.clients.map(clientMetadata),
    jwks: { keys: deps.keys.keys as NonNullable<Configuration['jwks']>['keys'] },
    cookies: {
      names: cookieNames(config.issuer),
      keys: cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    responseTypes: ['code'],
    // OpenID Connect requires redirect_uri on every authorization request; a missing one is an error page
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: { required: () => true },
    scopes: [...SCOPES],
    // acr, amr and auth_time come from the login itself; every ID token carries them
    claims: {
      ...SCOPE_CLAIMS,
      openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', 'auth_time'],
    } as unknown as Configuration['claims'],
    // ID tokens carry the scope's claims too (code flow), as national brokers do
    conformIdTokenClaims: false,
    acrValues: [...LOA_LEVELS],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier,
    ...(mtlsAliases ? { discovery: { mtls_endpoint_aliases: mtlsAliases } } : {}),
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(mtls ? CERTIFICATE_AUTH_METHODS : []),
    ],
    enabledJWA: {
      idTokenSigningAlgValues: ['PS256', 'ES256', 'RS256'],
      clientAuthSigningAlgValues: ['PS256', 'ES256', 'RS256', 'EdDSA'],
      requestObjectSigningAlgValues: ['PS256', 'ES256', 'RS256'],
    },
    features: {
      ...(mtls ? { mTLS: mtls as unknown as NonNullable<Configuration['features']>['mTLS'] } : {}),
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      // a service may revoke only its own tokens
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId)
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      // agency services call only userinfo: no other resource server exists, so any `resource` is invalid_target
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: async () => {
          throw new errors.InvalidTarget('resource indicators are not supported');
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          const l = pickLocale(ctx.oidc.params?.ui_locales, ctx.get('accept-language'));
          ctx.type = 'html';
          ctx.body = page(
            t(l, 'logout_title'),
            html`<h1>${t(l, 'logout_title')}</h1><p>${t(l, 'logout_question')}</p>${new Html(form)}<button class="primary" form="op.logoutForm" name="logout" value="yes" type="submit">${t(l, 'logout_yes')}</button>`,
            { lang: l },
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          const l = pickLocale(undefined, ctx.get('accept-language'));
          ctx.type = 'html';
          ctx.body = page(t(l, 'logout_title'), html`<h1>${t(l, 'logout_done')}</h1>`, { lang: l });
        },
      },
    },
    extraParams: {
      // As Estonia's broker: a scope we do not know (offline_access included: we issue no refresh tokens) is an
      // error, not silently dropped, and openid is required (an OpenID Connect service, not plain OAuth). The
      // engine has already dropped unknown scopes from `value`, so read the scope as the client sent it; a
      // pushed request (PAR) was checked like this when it was pushed.
      scope(ctx: KoaContextWithOIDC, value: unknown) {
        const raw = ctx.oidc.entities.PushedAuthorizationRequest
          ? value
          : ctx.method === 'POST'
            ? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope
            : ctx.query.scope;
        const scopes = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : [];
        const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
        if (unknown.length)
          throw new errors.InvalidScope(
            `unsupported scope: ${unknown.join(' ').slice(0, 100)}`,
            unknown.join(' ').slice(0, 100),
          );
        if (!scopes.includes('openid')) throw new errors.InvalidScope('scope must include openid', 'openid');
      },
      // Estonia's broker requires a state of at least 8 characters; so do we (CSRF protection for the RP)
      state(_ctx: KoaContextWithOIDC, value: unknown) {
        if (typeof value !== 'string' || value.length < 8)
          throw new errors.InvalidRequest('state is required and must be at least 8 characters');
        if (value.length > 512) throw new errors.InvalidRequest('state is too long');
      },
      acr_values(ctx: KoaContextWithOIDC, value: unknown) {
        if (value === undefined) return;
        const requested = requestedLoa(value);
        if (!requested) throw new errors.InvalidRequest(`acr_values must name one of ${LOA_LEVELS.join(', ')}`);
        if (!deps.providersFor(ctx.oidc.client!.clientId, requested).length)
          throw new errors.InvalidRequest(`no provider offers level ${requested} to this client`);
      },
      // Lets a service skip the selection page by naming one provider (as commercial brokers' idp hints do)
      idp_hint(ctx: KoaContextWithOIDC, value: unknown) {
        if (value === undefined) return;
        const requested = requestedLoa(ctx.oidc.params?.acr_values);
        if (typeof value !== 'string' || !deps.providersFor(ctx.oidc.client!.clientId, requested).includes(value)) {
          throw new errors.InvalidRequest('idp_hint names no provider available to this client at the requested level');
        }
      },
    } as unknown as Configuration['extraParams'],
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub, token) => {
      const grantId = token?.grantId ?? ctx.oidc.entities.Grant?.jti;
      const account = grantId ? await accounts.get(grantId) : undefined;
      if (!account || account.identity.subject !== sub) {
        // at the authorization endpoint nothing is released; elsewhere an unknown login is no account
        return token ? undefined : { accountId: sub, claims: async () => ({ sub }) };
      }
      return {
        accountId: sub,
        claims: async (use, scope, _claims, rejected) => {
          const all = identityClaims(account.identity);
          const granted = new Set(
            scope.split(' ').flatMap((s) => (SCOPE_CLAIMS as Record<string, readonly string[]>)[s] ?? []),
          );
          const released = Object.fromEntries(
            Object.entries(all).filter(([k, v]) => v !== undefined && granted.has(k) && !rejected.includes(k)),
          );
          released.sub = sub;
          await audit.record({
            type: 'identity_released',
            correlationId: account.correlationId,
            clientId: account.clientId,
            providerId: account.identity.idp,
            person: { subject: sub, claims: released },
            detail: { use, claims: Object.keys(released).sort(), acr: account.identity.loa },
          });
          return released as { sub: string };
        },
      };
    },
    ttl: {
      AccessToken: config.ttl.access_token,
      AuthorizationCode: config.ttl.authorization_code,
      IdToken: config.ttl.id_token,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.session,
    },
    renderError: async (ctx, out, error) => {
      const l = pickLocale(ctx.oidc?.params?.ui_locales, ctx.get('accept-language'));
      const message =
        out.error === 'invalid_redirect_uri' || /redirect_uri/.test(String(out.error_description))
          ? 'error_redirect_uri'
          : out.error === 'invalid_client'
            ? 'error_client'
            : out.error === 'invalid_request' && /session|interaction/i.test(String(out.error_description))
              ? 'error_session'
              : 'error_generic';
      logger.warn('oidc error page', {
        error: out.error,
        description: out.error_description,
        status: (error as { status?: number }).status,
        cause: (error as { cause?: Error }).cause?.message,
      });
      ctx.type = 'html';
      ctx.body = errorPage({ locale: l, message, nonce: '' });
    },
  };
  // `proxy` is set by createApp, which rewrites the Host and X-Forwarded-* headers the engine reads
  return new Provider(config.issuer, configuration);
}

// node-oidc-provider configured for agency services. The engine stays untouched: we supply clients,
// storage, keys, the claims of each login (src/login/claims.ts), the interaction URL and our checks
// (./interaction-policy.ts, ./parameter-checks.ts), and the pages it shows (rendered by src/web).
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { GatewayConfig } from '../config/load.ts';
import type { Store } from '../store/store.ts';
import type { AuditLog } from '../audit/events.ts';
import { LOA_LEVELS } from '../identity/loa.ts';
import { mtlsFeature, CERTIFICATE_AUTH_METHODS } from '../tls/mtls-feature.ts';
import { mtlsEndpointAliases } from '../tls/mtls-endpoint-aliases.ts';
import { Accounts, identityLifetime } from '../login/accounts.ts';
import type { ProviderPolicy } from '../login/policy.ts';
import { SCOPES, SCOPE_CLAIMS, claimsRelease } from '../login/claims.ts';
import { storeAdapterFactory } from './adapter.ts';
import { jwtReplaysRefused } from './jwt-replay.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { engineKeys, EXTERNAL_SIGNING, followCookieKeys } from '../keys/engine-keys.ts';
import { clientMetadata } from './clients.ts';
import { cookieNames } from './cookies.ts';
import { pairwiseIdentifier, type PairwiseIdentifier } from './pairwise.ts';
import { type BrowserOf, freshLoginPolicy } from './interaction-policy.ts';
import { parameterChecks } from './parameter-checks.ts';
import {
  formPostAsGet,
  pageForBareStatus,
  errorIssCompat,
  registeredSecretMethodOnly,
  tokenEndpointConformance,
} from './interop.ts';
import type { Logger } from '../logger.ts';
import { type FormPostPages, ownFormPostPage } from './form-post-page.ts';
import { UI_LOCALES } from '../login/locale.ts';
import { CLOCK_TOLERANCE_SECONDS, clientAssertionBounds } from './client-assertion.ts';

type RpInitiatedLogout = NonNullable<NonNullable<Configuration['features']>['rpInitiatedLogout']>;

/** The pages the engine shows itself: errors it cannot send back to a service, and RP-initiated logout. */
export type EnginePages = Required<Pick<Configuration, 'renderError'>> &
  Required<Pick<RpInitiatedLogout, 'logoutSource' | 'postLogoutSuccessSource'>> & {
    /** a page for a request answered by its status alone: no such page (404), a body too large (413) */
    statusPage(ctx: KoaContextWithOIDC, status: 404 | 413 | 415): Promise<void>;
  } & FormPostPages;

export interface EngineDeps {
  config: GatewayConfig;
  store: Store;
  /** start a request's reads as soon as their keys are known (./reads-ahead.ts), on `store` */
  readAhead?: ((keys: readonly string[]) => void) | undefined;
  /** token and cookie keys, reloaded while the engine runs (src/keys/engine-keys.ts) */
  keys: KeyRing;
  accounts: Accounts;
  audit: AuditLog;
  policy: ProviderPolicy;
  pages: EnginePages;
  logger: Logger;
  /** the digest of a request's browser binding cookie: a login resumes only in the browser it was completed in */
  browserOf: BrowserOf;
}

/** Features beyond the defaults: userinfo, revocation of a service's own tokens, RP-initiated logout,
 * resource indicators (all refused), and RFC 8705 certificates when the server settings provide them. */
function features(mtls: ReturnType<typeof mtlsFeature>, pages: EnginePages): Configuration['features'] {
  return {
    ...(mtls ? { mTLS: mtls as unknown as NonNullable<Configuration['features']>['mTLS'] } : {}),
    // token keys that change without a restart (src/keys/engine-keys.ts)
    externalSigningSupport: EXTERNAL_SIGNING,
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
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
      logoutSource: pages.logoutSource,
      postLogoutSuccessSource: pages.postLogoutSuccessSource,
    },
  };
}

/** What the engine validates a client's metadata against (clients, their methods, algorithms, scopes,
 * subject types, features): the engine and the start-up check of every client (./client-check.ts) share it. */
export function clientRules(config: GatewayConfig, pages: EnginePages, pairwise: PairwiseIdentifier): Configuration {
  // RFC 8705 client certificates at the token endpoint (native TLS or a trusted terminator's header)
  const mtls = mtlsFeature(config.server);
  return {
    clients: config.clients.map(clientMetadata),
    responseTypes: ['code'],
    // OpenID Connect requires redirect_uri on every authorization request; a missing one is an error page
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: { required: () => true },
    scopes: [...SCOPES],
    // acr, amr and auth_time come from the login itself; every ID token carries them. The engine's default
    // `sid` is released only by Front- and Back-Channel Logout, both off here, so it is not advertised
    // (false: the engine's defaults are merged over an undefined)
    claims: {
      ...SCOPE_CLAIMS,
      openid: [...SCOPE_CLAIMS.openid, 'acr', 'amr', 'auth_time'],
      sid: false,
    } as unknown as Configuration['claims'],
    // ID tokens carry the scope's claims too (code flow), as national brokers do
    conformIdTokenClaims: false,
    acrValues: [...LOA_LEVELS],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier: pairwise,
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(mtls ? CERTIFICATE_AUTH_METHODS : []),
    ],
    enabledJWA: {
      idTokenSigningAlgValues: ['PS256', 'ES256', 'RS256'],
      // Ed25519 is the fully-specified name of EdDSA over Ed25519 (RFC 9864), which openid-client signs with
      clientAuthSigningAlgValues: ['PS256', 'ES256', 'RS256', 'EdDSA', 'Ed25519'],
      requestObjectSigningAlgValues: ['PS256', 'ES256', 'RS256'],
    },
    features: features(mtls, pages),
  };
}

const accountKeys = (grantId: string) => [Accounts.keyOf(grantId)];

export function createEngine(deps: EngineDeps): Provider {
  const { config } = deps;
  const pairwise = pairwiseIdentifier(config.pairwise_salt ?? '');
  // RFC 8705 5: token, userinfo and revocation also on a listener that requests client certificates
  const mtlsAliases = mtlsEndpointAliases(config.server, config.issuer);
  const rules = clientRules(config, deps.pages, pairwise);
  const configuration: Configuration = {
    ...rules,
    // a token request's code names the account its claims need (src/login/accounts.ts), which goes when the
    // grant is revoked
    adapter: storeAdapterFactory(
      deps.store,
      deps.readAhead && { readAhead: deps.readAhead, withCode: accountKeys },
      accountKeys,
    ),
    jwks: engineKeys(deps.keys),
    cookies: {
      names: cookieNames(config.issuer),
      keys: deps.keys.view.cookies,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    discovery: {
      ui_locales_supported: [...UI_LOCALES],
      // RFC 8414 2: left out, a service must assume client_secret_basic alone at revocation; it takes every
      // method the token endpoint takes (each service's registered one)
      revocation_endpoint_auth_methods_supported: rules.clientAuthMethods,
      revocation_endpoint_auth_signing_alg_values_supported: rules.enabledJWA?.clientAuthSigningAlgValues,
      ...(mtlsAliases ? { mtls_endpoint_aliases: mtlsAliases } : {}),
    },
    extraParams: parameterChecks(deps.policy, deps.logger),
    interactions: {
      policy: freshLoginPolicy(pairwise, deps.browserOf),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    findAccount: claimsRelease(deps.accounts, deps.audit, { ...deps, limits: config.limits }),
    ttl: {
      AccessToken: config.ttl.access_token,
      AuthorizationCode: config.ttl.authorization_code,
      IdToken: config.ttl.id_token,
      Interaction: config.ttl.interaction,
      // their accountId is the subject, PNOLV-<personal code>: kept no longer than the identity itself
      Session: identityLifetime(config.ttl),
      Grant: identityLifetime(config.ttl),
    },
    renderError: deps.pages.renderError,
    // bounds on client assertions: lifetime, iat, every audience this server's (./client-assertion.ts)
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    assertJwtClientAuthClaimsAndHeader: clientAssertionBounds(deps.logger),
  };
  // `proxy` is set by createApp, which rewrites the Host and X-Forwarded-* headers the engine reads
  const provider = new Provider(config.issuer, configuration);
  followCookieKeys(provider, deps.keys, deps.logger);
  jwtReplaysRefused(provider);
  // Koa's default handler of a failed request (a body cut off, a connection gone) prints its stack on
  // stderr, beside the JSON log: one structured line instead (the engine's typings omit Koa's own event)
  const koa = provider as unknown as NodeJS.EventEmitter;
  koa.on('error', (err: Error & { code?: string; status?: number }, ctx?: KoaContextWithOIDC) =>
    deps.logger.warn('engine request failed', {
      error: err.name,
      code: err.code,
      status: err.status,
      message: err.message.slice(0, 200),
      path: ctx?.path,
    }),
  );
  // what relying-party software and users need beyond the engine's defaults (./interop.ts)
  provider.use(pageForBareStatus(deps.pages));
  // registered before the middleware that edits the engine's form, so that it renders the edited one
  provider.use(ownFormPostPage(deps.pages));
  for (const path of ['/auth', '/session/end'])
    provider.use(formPostAsGet(path, (ctx, status) => deps.pages.statusPage(ctx, status)));
  provider.use(
    errorIssCompat(new Set(config.clients.filter((c) => !c.authorization_error_iss).map((c) => c.client_id))),
  );
  provider.use(tokenEndpointConformance(config.issuer));
  registeredSecretMethodOnly(provider);
  return provider;
}

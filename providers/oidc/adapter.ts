// The upstream OpenID Connect adapter: authorization code flow with PKCE S256, state (the broker's own)
// and nonce, on openid-client 6. openid-client verifies the ID token (signature against the issuer's
// JWKS with refetch on an unknown kid at most once a minute, iss, aud, exp/iat, nonce, pinned alg) and
// the authorization response (state, RFC 9207 iss); this module pins the policy around it and maps the
// verified claims to our identity and level of assurance.
import { createHash } from 'node:crypto';
import type { Express } from 'express';
import * as client from 'openid-client';
import type {
  AdapterDeps,
  CallbackContext,
  CallbackResult,
  ProviderAdapter,
  StartContext,
  StartResult,
} from '../../src/broker/adapter.ts';
import { AdapterConfigError, ProviderError } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import { loaSatisfies, type Loa } from '../../src/identity/loa.ts';
import type { Logger } from '../../src/logger.ts';
import type { ProviderTransport } from '../../src/tls/transport.ts';
import { acrValuesFor, amrOf, mapIdentity, mapLoa } from './claims.ts';
import { checkOidc, upstreamUrls, type OidcProviderConfig } from './config.ts';
import { toProviderError } from './errors.ts';
import type { GatewayKey } from './keys.ts';

/** What the broker keeps for one login (server side; the browser never sees it). */
interface ConnData {
  v: 1;
  /** broker state sent upstream */
  state: string;
  /** PKCE code_verifier */
  verifier: string;
  nonce: string;
}

function isConnData(value: unknown): value is ConnData {
  const c = value as ConnData | null;
  return (
    !!c && c.v === 1 && typeof c.state === 'string' && typeof c.verifier === 'string' && typeof c.nonce === 'string'
  );
}

export interface OidcAdapterOptions {
  config: OidcProviderConfig;
  deps: AdapterDeps;
  transport: ProviderTransport;
  signingKey: GatewayKey | undefined;
  encryptionKey: GatewayKey | undefined;
}

export class OidcAdapter implements ProviderAdapter {
  readonly id: string;
  readonly kind = 'oidc';
  readonly maxLoa: Loa;
  private readonly config: OidcProviderConfig;
  private authorizationEndpoint: string | undefined;
  private readonly transport: ProviderTransport;
  private readonly signingKey: GatewayKey | undefined;
  private readonly encryptionKey: GatewayKey | undefined;
  private readonly insecure: boolean;
  private readonly logger: Logger;
  private configuration: Promise<client.Configuration> | undefined;

  constructor(o: OidcAdapterOptions) {
    this.config = o.config;
    this.id = o.config.id;
    this.maxLoa = o.config.loa;
    this.transport = o.transport;
    this.signingKey = o.signingKey;
    this.encryptionKey = o.encryptionKey;
    this.logger = o.deps.logger.child({ provider: o.config.id, adapter: 'oidc' });
    const problems = checkOidc(o.config, o.deps);
    if (problems.length) throw new AdapterConfigError(o.config.id, problems);
    this.insecure = upstreamUrls(o.config).some(([, u]) => u.startsWith('http:'));
  }

  /** The public keys the upstream needs from us (client assertion / request object signature, ID token encryption). */
  publicJwks(): { keys: Record<string, unknown>[] } {
    return {
      keys: [this.signingKey?.publicJwk, this.encryptionKey?.publicJwk].filter((k) => k !== undefined) as Record<
        string,
        unknown
      >[],
    };
  }

  routes(app: Express, basePath: string): void {
    app.get(`${basePath}/jwks.json`, (_req, res) => {
      res.type('application/jwk-set+json').json(this.publicJwks());
    });
  }

  /** Discovery (or static metadata) once, retried on the next login after a failure. */
  private configurationFor(): Promise<client.Configuration> {
    if (!this.configuration) {
      this.configuration = this.buildConfiguration()
        .then((built) => {
          this.authorizationEndpoint = built.serverMetadata().authorization_endpoint;
          return built;
        })
        .catch((err: unknown) => {
          this.configuration = undefined;
          throw err;
        });
    }
    return this.configuration;
  }

  /** Start discovery in the background so the first login does not wait for it; failures are retried then. */
  warmUp(): void {
    this.configurationFor().catch((err: unknown) => {
      this.logger.warn('upstream discovery failed; retried on the next login', {
        detail: toProviderError(err, 'discovery', this.config.errors).detail,
      });
    });
  }

  private clientAuth(): client.ClientAuth {
    const auth = this.config.client_auth;
    switch (auth.method) {
      case 'client_secret_basic':
        return client.ClientSecretBasic(auth.client_secret);
      case 'client_secret_post':
        return client.ClientSecretPost(auth.client_secret);
      case 'private_key_jwt':
        return client.PrivateKeyJwt({ key: this.signingKey!.key, kid: this.signingKey!.kid });
      case 'tls_client_auth':
        return client.TlsClientAuth();
    }
  }

  private async buildConfiguration(): Promise<client.Configuration> {
    const c = this.config;
    const metadata: Partial<client.ClientMetadata> = {
      id_token_signed_response_alg: c.id_token_signed_response_alg,
      ...(c.userinfo_signed_response_alg ? { userinfo_signed_response_alg: c.userinfo_signed_response_alg } : {}),
      [client.clockTolerance]: c.clock_tolerance,
    };
    const fetchVia: client.CustomFetch = (url, options) => this.transport.fetch(url, options as RequestInit);
    let configuration: client.Configuration;
    if (c.metadata) {
      configuration = new client.Configuration(
        { issuer: c.issuer, ...c.metadata },
        c.client_id,
        metadata,
        this.clientAuth(),
      );
      configuration[client.customFetch] = fetchVia;
      configuration.timeout = c.timeout;
      if (this.insecure) client.allowInsecureRequests(configuration);
    } else {
      // discovery checks that the document's issuer is exactly the configured one
      configuration = await client.discovery(new URL(c.issuer), c.client_id, metadata, this.clientAuth(), {
        [client.customFetch]: fetchVia,
        timeout: c.timeout,
        ...(this.insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    }
    // openid-client trusts TLS for ID tokens from the token endpoint and skips their signature; we verify
    // it anyway (a compromised or misrouted back channel must not be able to mint identities)
    client.enableNonRepudiationChecks(configuration);
    if (this.encryptionKey && c.encryption) {
      client.enableDecryptingResponses(configuration, [...c.encryption.enc], {
        key: this.encryptionKey.key,
        kid: this.encryptionKey.kid,
        alg: this.encryptionKey.alg,
      });
    }
    return configuration;
  }

  /** The issuer's origin and the authorization endpoint's, once discovered: answering the provider choice
   * redirects there. */
  formActionOrigins(): string[] {
    const origins = new Set([new URL(this.config.issuer).origin]);
    const endpoint = this.config.metadata?.authorization_endpoint ?? this.authorizationEndpoint;
    if (typeof endpoint === 'string') origins.add(new URL(endpoint).origin);
    return [...origins];
  }

  async start(ctx: StartContext): Promise<StartResult> {
    const c = this.config;
    let url: URL;
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    try {
      const configuration = await this.configurationFor();
      const params: Record<string, string> = {
        redirect_uri: ctx.callbackUrl,
        response_type: 'code',
        scope: c.scope,
        state: ctx.state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ui_locales: ctx.locale,
        // OIDC Core 3.1.2.1: the eID must authenticate the person now, never answer from its own
        // single sign-on session (on a shared computer that session is the previous person's)
        prompt: 'login',
        max_age: String(c.max_age),
      };
      const acrValues = acrValuesFor(ctx.acr, c.assurance);
      if (acrValues) params.acr_values = acrValues;
      if (c.request_object) {
        // JAR: every parameter travels inside a request object signed with our key
        const jar = await client.buildAuthorizationUrlWithJAR(configuration, params, {
          key: this.signingKey!.key,
          kid: this.signingKey!.kid,
        });
        url = c.par ? await client.buildAuthorizationUrlWithPAR(configuration, jar.searchParams) : jar;
      } else {
        url = c.par
          ? await client.buildAuthorizationUrlWithPAR(configuration, params)
          : client.buildAuthorizationUrl(configuration, params);
      }
    } catch (err) {
      const pe = toProviderError(err, 'authorization request', c.errors);
      // a failure before the user left us is an outage from the relying party's point of view
      throw pe.code === 'invalid_response' ? new ProviderError('temporarily_unavailable', pe.detail) : pe;
    }
    const connData: ConnData = { v: 1, state: ctx.state, verifier, nonce };
    // the digest covers the request without its secrets' inputs (the challenge, not the verifier)
    return {
      action: { type: 'redirect', url: url.href },
      connData,
      requestDigest: `sha256:${createHash('sha256').update(url.href).digest('base64url')}`,
    };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    return typeof params.state === 'string' ? params.state : undefined;
  }

  async callback(ctx: CallbackContext): Promise<CallbackResult> {
    const c = this.config;
    if (!isConnData(ctx.connData))
      throw new ProviderError('invalid_response', 'login state carries no OIDC request data');
    const conn = ctx.connData;
    const params = ctx.params;
    if (params.response !== undefined) throw new ProviderError('invalid_response', 'JARM responses are not expected');
    // RFC 9207: an answer without iss could come from another upstream (mix-up); openid-client compares iss when present
    if (c.require_iss && typeof params.iss !== 'string')
      throw new ProviderError('invalid_response', 'authorization response lacks iss (RFC 9207)');

    const step = { now: 'token request' };
    try {
      const configuration = await this.configurationFor();
      const current = new URL(ctx.callbackUrl);
      for (const [name, value] of Object.entries(params)) current.searchParams.set(name, value);
      step.now = 'token request';
      const tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: conn.verifier,
        expectedNonce: conn.nonce,
        expectedState: conn.state,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new ProviderError('invalid_response', 'token response has no ID token');
      const idToken = tokens.id_token!;
      if (c.encryption?.id_token && !client.getDecryptedResponses(tokens)?.id_token?.token_endpoint) {
        throw new ProviderError('invalid_response', 'ID token was not encrypted although encryption is required');
      }
      let source: Record<string, unknown> = idClaims;
      if (c.claims.source === 'userinfo' || c.userinfo || c.encryption?.userinfo) {
        step.now = 'userinfo request';
        // openid-client refuses a userinfo `sub` other than the ID token's
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        if (c.encryption?.userinfo && typeof client.getDecryptedResponses(userinfo) !== 'string') {
          throw new ProviderError('invalid_response', 'userinfo was not encrypted although encryption is required');
        }
        if (c.claims.source === 'userinfo') source = userinfo;
      }
      // OIDC Core 3.1.3.7: with max_age sent, auth_time is required; it must lie within this login
      const authTime = freshAuthTime(
        typeof idClaims.auth_time === 'number' ? idClaims.auth_time * 1000 : undefined,
        ctx.loginStartedAt,
        { clockSkewSeconds: c.clock_tolerance, maxAgeSeconds: c.max_age },
        'ID token auth_time',
      );
      const loa = mapLoa(idClaims, c.assurance, this.maxLoa);
      if (!loaSatisfies(loa, ctx.acr))
        throw new ProviderError('loa_too_low', `upstream level ${loa}, requested ${ctx.acr}`);
      const amr = amrOf(idClaims);
      const identity = mapIdentity(source, c.claims, loa, amr, authTime);
      identity.raw = { acr: idClaims.acr ?? null, amr };
      return { identity, responseDigest: `sha256:${createHash('sha256').update(idToken).digest('base64url')}` };
    } catch (err) {
      throw toProviderError(err, step.now, c.errors);
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

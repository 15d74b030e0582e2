// The upstream OpenID Connect adapter: authorization code flow with PKCE S256, state (the broker's own)
// and nonce, on openid-client 6. openid-client verifies the ID token (signature against the issuer's
// JWKS with refetch on an unknown kid at most once a minute, iss, aud, exp/iat, nonce, pinned alg) and
// the authorization response (state, RFC 9207 iss); this module pins the policy around it and maps the
// verified claims to our identity and level of assurance.
import { createHash } from 'node:crypto';
import type { Express } from 'express';
import * as client from 'openid-client';
import { z } from 'zod';
import { ProviderError } from '../../src/broker/adapter.ts';
import type { AdapterDeps, ProviderAdapter } from '../../src/broker/adapter.ts';
import type { CallbackContext, CallbackResult, StartContext, StartResult } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import { loaSatisfies, type Loa } from '../../src/identity/loa.ts';
import type { Logger } from '../../src/logger.ts';
import type { ProviderTransport } from '../../src/tls/transport.ts';
import { acrValuesFor, amrOf, mapIdentity, mapLoa } from './claims.ts';
import { upstreamUrls } from './check.ts';
import type { OidcProviderConfig } from './config.ts';
import { toProviderError } from './errors.ts';
import type { GatewayKey } from './keys.ts';
import { UpstreamConfiguration } from './upstream.ts';

/** What the broker keeps for one login (server side; the browser never sees it). */
const oidcConnDataSchema = z.strictObject({
  v: z.literal(1),
  /** broker state sent upstream */
  state: z.string(),
  /** PKCE code_verifier */
  verifier: z.string(),
  nonce: z.string(),
});
type OidcConnData = z.infer<typeof oidcConnDataSchema>;

export interface OidcAdapterOptions {
  config: OidcProviderConfig;
  deps: AdapterDeps;
  transport: ProviderTransport;
  signingKey: GatewayKey | undefined;
  encryptionKey: GatewayKey | undefined;
}

export class OidcAdapter implements ProviderAdapter<OidcConnData> {
  readonly id: string;
  readonly kind = 'oidc';
  readonly maxLoa: Loa;
  readonly connDataSchema = oidcConnDataSchema;
  private readonly config: OidcProviderConfig;
  private readonly transport: ProviderTransport;
  private readonly signingKey: GatewayKey | undefined;
  private readonly encryptionKey: GatewayKey | undefined;
  private readonly logger: Logger;
  private readonly upstream: UpstreamConfiguration;

  constructor(options: OidcAdapterOptions) {
    const { config, deps } = options;
    this.config = config;
    this.id = config.id;
    this.maxLoa = config.loa;
    this.transport = options.transport;
    this.signingKey = options.signingKey;
    this.encryptionKey = options.encryptionKey;
    this.logger = deps.logger.child({ provider: config.id, adapter: this.kind });
    this.upstream = new UpstreamConfiguration({
      ...options,
      insecure: upstreamUrls(config).some(([, url]) => url.startsWith('http:')),
    });
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

  /** Start discovery in the background so the first login does not wait for it; failures are retried then. */
  warmUp(): void {
    this.upstream.get().catch((err: unknown) => {
      this.logger.warn('upstream discovery failed; retried on the next login', {
        detail: toProviderError(err, 'discovery', this.config.errors).detail,
      });
    });
  }

  /** The issuer's origin and the authorization endpoint's, once discovered: answering the provider choice
   * redirects there. */
  formActionOrigins(): string[] {
    const origins = new Set([new URL(this.config.issuer).origin]);
    const endpoint = this.config.metadata?.authorization_endpoint ?? this.upstream.authorizationEndpoint;
    if (typeof endpoint === 'string') origins.add(new URL(endpoint).origin);
    return [...origins];
  }

  async start(ctx: StartContext): Promise<StartResult<OidcConnData>> {
    const config = this.config;
    let url: URL;
    const verifier = client.randomPKCECodeVerifier();
    const nonce = client.randomNonce();
    try {
      const configuration = await this.upstream.get();
      const params: Record<string, string> = {
        redirect_uri: ctx.callbackUrl,
        response_type: 'code',
        scope: config.scope,
        state: ctx.state,
        nonce,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ui_locales: ctx.locale,
        // OIDC Core 3.1.2.1: the eID must authenticate the person now, never answer from its own
        // single sign-on session (on a shared computer that session is the previous person's)
        prompt: 'login',
        max_age: String(config.max_age),
      };
      const acrValues = acrValuesFor(ctx.acr, config.assurance);
      if (acrValues) params.acr_values = acrValues;
      if (config.request_object) {
        // JAR: every parameter travels inside a request object signed with our key
        const jar = await client.buildAuthorizationUrlWithJAR(configuration, params, {
          key: this.signingKey!.key,
          kid: this.signingKey!.kid,
        });
        url = config.par ? await client.buildAuthorizationUrlWithPAR(configuration, jar.searchParams) : jar;
      } else {
        url = config.par
          ? await client.buildAuthorizationUrlWithPAR(configuration, params)
          : client.buildAuthorizationUrl(configuration, params);
      }
    } catch (err) {
      const refusal = toProviderError(err, 'authorization request', config.errors);
      // a failure before the user left us is an outage from the relying party's point of view
      throw refusal.code === 'invalid_response'
        ? new ProviderError('temporarily_unavailable', refusal.detail)
        : refusal;
    }
    // the digest covers the request without its secrets' inputs (the challenge, not the verifier)
    return {
      action: { type: 'redirect', url: url.href },
      connData: { v: 1, state: ctx.state, verifier, nonce },
      requestDigest: `sha256:${createHash('sha256').update(url.href).digest('base64url')}`,
    };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    return typeof params.state === 'string' ? params.state : undefined;
  }

  async callback(ctx: CallbackContext<OidcConnData>): Promise<CallbackResult> {
    const config = this.config;
    const conn = ctx.connData;
    const params = ctx.params;
    if (params.response !== undefined) throw new ProviderError('invalid_response', 'JARM responses are not expected');
    // RFC 9207: an answer without iss could come from another upstream (mix-up); openid-client compares iss when present
    if (config.require_iss && typeof params.iss !== 'string')
      throw new ProviderError('invalid_response', 'authorization response lacks iss (RFC 9207)');

    const step = { now: 'token request' };
    try {
      const configuration = await this.upstream.get();
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
      if (config.encryption?.id_token && !client.getDecryptedResponses(tokens)?.id_token?.token_endpoint) {
        throw new ProviderError('invalid_response', 'ID token was not encrypted although encryption is required');
      }
      let source: Record<string, unknown> = idClaims;
      if (config.claims.source === 'userinfo' || config.userinfo || config.encryption?.userinfo) {
        step.now = 'userinfo request';
        // openid-client refuses a userinfo `sub` other than the ID token's
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        if (config.encryption?.userinfo && typeof client.getDecryptedResponses(userinfo) !== 'string') {
          throw new ProviderError('invalid_response', 'userinfo was not encrypted although encryption is required');
        }
        if (config.claims.source === 'userinfo') source = userinfo;
      }
      // OIDC Core 3.1.3.7: with max_age sent, auth_time is required; it must lie within this login
      const authTime = freshAuthTime(
        typeof idClaims.auth_time === 'number' ? idClaims.auth_time * 1000 : undefined,
        ctx,
        { clockSkewSeconds: config.clock_tolerance, maxAgeSeconds: config.max_age },
        'ID token auth_time',
      );
      const loa = mapLoa(idClaims, config.assurance, this.maxLoa);
      if (!loaSatisfies(loa, ctx.acr))
        throw new ProviderError('loa_too_low', `upstream level ${loa}, requested ${ctx.acr}`);
      const amr = amrOf(idClaims);
      const identity = mapIdentity(source, config.claims, loa, amr, authTime);
      identity.raw = { acr: idClaims.acr ?? null, amr };
      return { identity, responseDigest: `sha256:${createHash('sha256').update(idToken).digest('base64url')}` };
    } catch (err) {
      throw toProviderError(err, step.now, config.errors);
    }
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

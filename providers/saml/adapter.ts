// The SAML 2.0 service provider at work: a signed AuthnRequest (HTTP-Redirect or HTTP-POST binding,
// ForceAuthn, optional eIDAS extensions) out, and on the callback a Response by HTTP-POST verified
// against the IdP as currently known, bound to its request (InResponseTo, single use), never replayed.
import { createHash } from 'node:crypto';
import type { Express } from 'express';
import { z } from 'zod';
import { ProviderError, type AdapterDeps, type ProviderAdapter } from '../../src/broker/adapter.ts';
import type { CallbackContext, CallbackResult, StartContext, StartResult } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import { LOA_URI, loaRank, loaSatisfies, parseLoa, type Loa } from '../../src/identity/loa.ts';
import type { ProviderTransport } from '../../src/tls/transport.ts';
import { AttributeError, mapAttributes } from './attributes.ts';
import type { SamlProviderConfig } from './config.ts';
import { resolveEidasExtensions, type EidasExtensions } from './eidas.ts';
import type { IdpSource } from './idp-source.ts';
import type { KeyPair } from './keys.ts';
import { spMetadata } from './metadata.ts';
import { buildAuthnRequest } from './request.ts';
import { base64Limit, decodeSamlResponse, verifySamlResponse } from './response.ts';
import { ResponseError } from './expectations.ts';
import { spEndpoints } from './sp.ts';
import { statusError } from './status.ts';

/** What the broker keeps for one login: the ID of our AuthnRequest, which the Response must answer. */
const samlConnDataSchema = z.strictObject({ requestId: z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/) });
type SamlConnData = z.infer<typeof samlConnDataSchema>;

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export class SamlAdapter implements ProviderAdapter<SamlConnData> {
  readonly kind = 'saml';
  readonly id: string;
  readonly maxLoa: Loa;
  readonly connDataSchema = samlConnDataSchema;
  readonly spEntityId: string;
  readonly metadataAcsUrl: string;
  private readonly config: SamlProviderConfig;
  private readonly deps: AdapterDeps;
  private readonly signing: KeyPair;
  private readonly encryption: KeyPair;
  private readonly idp: IdpSource;
  private readonly eidas: EidasExtensions | undefined;
  private readonly transport: ProviderTransport | undefined;
  private warnedAcs = false;

  constructor(
    config: SamlProviderConfig,
    deps: AdapterDeps,
    keys: { signing: KeyPair; encryption: KeyPair },
    idp: IdpSource,
    transport?: ProviderTransport,
  ) {
    this.config = config;
    this.deps = deps;
    this.id = config.id;
    this.maxLoa = config.loa;
    this.signing = keys.signing;
    this.encryption = keys.encryption;
    ({ entityId: this.spEntityId, acsUrl: this.metadataAcsUrl } = spEndpoints(config, deps.baseUrl));
    this.idp = idp;
    this.eidas = resolveEidasExtensions(config.eidas_extensions, config.attributes);
    this.transport = transport;
  }

  /** SP signing and encryption certificates (PEM), e.g. for an IdP's configuration. */
  get certificates(): { signing: string; encryption: string } {
    return { signing: this.signing.cert, encryption: this.encryption.cert };
  }

  metadata(): string {
    return spMetadata({
      entityId: this.spEntityId,
      acsUrl: this.metadataAcsUrl,
      signingKey: this.signing.key,
      signingCert: this.signing.cert,
      encryptionCert: this.encryption.cert,
      nameIdFormat: this.config.name_id_format,
    });
  }

  /** SAMLResponse as long as max_response_bytes allows in base64 (as decodeSamlResponse checks); RelayState
   * at most 80 bytes (SAML 2.0 Bindings 3.4.3 and 3.5.3). */
  get callbackFieldLimits(): Record<string, number> {
    return { SAMLResponse: base64Limit(this.config.max_response_bytes), RelayState: 80 };
  }

  /** The SingleSignOnService origin, once known (static configuration or verified metadata). */
  formActionOrigins(): string[] {
    const url = this.idp.known()?.ssoUrls[this.config.binding];
    return url ? [new URL(url).origin] : [];
  }

  async start(ctx: StartContext): Promise<StartResult<SamlConnData>> {
    if (ctx.callbackUrl !== this.metadataAcsUrl && !this.warnedAcs) {
      this.warnedAcs = true;
      this.deps.logger.warn('SAML ACS URL in SP metadata differs from the broker callback URL; set sp.acs_url', {
        providerId: this.id,
        callbackUrl: ctx.callbackUrl,
        metadataAcsUrl: this.metadataAcsUrl,
      });
    }
    const idp = await this.idp.current();
    const ssoUrl = idp.ssoUrls[this.config.binding];
    if (!ssoUrl)
      throw new ProviderError(
        'temporarily_unavailable',
        `IdP has no SingleSignOnService for the ${this.config.binding} binding`,
      );
    const built = await buildAuthnRequest({
      spEntityId: this.spEntityId,
      acsUrl: ctx.callbackUrl,
      idpSsoUrl: ssoUrl,
      signingKey: this.signing.key,
      signingCert: this.signing.cert,
      binding: this.config.binding,
      relayState: ctx.state,
      forceAuthn: true,
      nameIdFormat: this.config.name_id_format,
      classRefs: this.config.request_authn_context ? [LOA_URI[ctx.acr ?? 'low']] : [],
      eidas: this.eidas,
    });
    // Single use: the callback takes this key; a second response to the same request finds nothing.
    const created = await this.deps.store.setIfAbsent(this.requestKey(built.id), '1', this.config.request_ttl_seconds);
    if (!created) throw new ProviderError('temporarily_unavailable', 'AuthnRequest ID collision');
    return { action: built.action, connData: { requestId: built.id }, requestDigest: `sha256:${sha256(built.xml)}` };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    const relayState = params.RelayState;
    return typeof relayState === 'string' && relayState.length > 0 && relayState.length <= 80 ? relayState : undefined;
  }

  async callback(ctx: CallbackContext<SamlConnData>): Promise<CallbackResult> {
    if (ctx.method !== 'POST')
      throw new ProviderError('invalid_response', 'SAML responses are accepted by HTTP-POST only');
    const requestId = ctx.connData.requestId;
    // InResponseTo is bound to this login's request and usable once, whatever the outcome.
    if (!(await this.deps.store.take(this.requestKey(requestId))))
      throw new ProviderError('invalid_response', 'AuthnRequest already answered or expired (InResponseTo reuse)');
    const now = Date.now();
    // verified against the IdP as known now: expired metadata fails closed here too
    const idp = await this.idp.current(now);
    const skewMs = this.config.clock_skew_seconds * 1000;
    let xml: string;
    let outcome: Awaited<ReturnType<typeof verifySamlResponse>>;
    try {
      xml = decodeSamlResponse(ctx.params.SAMLResponse, this.config.max_response_bytes);
      outcome = await verifySamlResponse(xml, {
        idpEntityId: idp.entityId,
        idpCertificates: idp.certificates,
        spEntityId: this.spEntityId,
        acsUrl: ctx.callbackUrl,
        requestId,
        decryptionKeys: [this.encryption.key],
        requireEncryptedAssertion: this.config.require_encrypted_assertion,
        skewMs,
        maxBytes: this.config.max_response_bytes,
        now,
        loginStartedAt: ctx.loginStartedAt,
      });
    } catch (err) {
      if (err instanceof ResponseError) throw new ProviderError('invalid_response', err.message);
      throw err;
    }
    if (!outcome.ok) throw statusError(outcome.status, this.config.cancel_status_messages);
    const assertion = outcome.assertion;

    const ttl = Math.max(1, Math.ceil((assertion.notOnOrAfter + skewMs - now) / 1000));
    if (
      !(await this.deps.store.setIfAbsent(
        `saml:assertion:${this.id}:${sha256(`${assertion.issuer}\n${assertion.id}`)}`,
        '1',
        ttl,
      ))
    ) {
      throw new ProviderError('invalid_response', 'assertion replayed (its ID was seen before)');
    }

    // ForceAuthn asked for a new authentication; an IdP that reused its session says so in AuthnInstant
    const authTime = freshAuthTime(
      assertion.authnInstant,
      ctx,
      { clockSkewSeconds: this.config.clock_skew_seconds },
      'AuthnInstant',
    );
    const loa = this.levelOf(assertion.authnContextClassRef);
    if (!loaSatisfies(loa, ctx.acr)) throw new ProviderError('loa_too_low', `achieved ${loa}, requested ${ctx.acr}`);
    let person: ReturnType<typeof mapAttributes>;
    try {
      person = mapAttributes(assertion.attributes, this.config.attributes);
    } catch (err) {
      if (err instanceof AttributeError) throw new ProviderError('invalid_response', err.message);
      throw err;
    }
    return {
      identity: {
        ...person,
        loa,
        amr: [...this.config.amr],
        authTime,
        raw: {
          issuer: assertion.issuer,
          authnContextClassRef: assertion.authnContextClassRef,
          signedBy: assertion.signedBy,
        },
      },
      responseDigest: `sha256:${sha256(xml)}`,
    };
  }

  routes(app: Express, basePath: string): void {
    app.get(`${basePath}/metadata`, (_req, res) => {
      res.type('application/samlmetadata+xml').send(this.metadata());
    });
  }

  /** Level from the AuthnContextClassRef, never above what this provider is configured to deliver. */
  private levelOf(classRef: string): Loa {
    const level = parseLoa(classRef) ?? this.config.authn_context_levels[classRef];
    if (!level) throw new ProviderError('invalid_response', 'AuthnContextClassRef names no known level of assurance');
    return loaRank(level) > loaRank(this.maxLoa) ? this.maxLoa : level;
  }

  private requestKey(requestId: string): string {
    return `saml:request:${this.id}:${requestId}`;
  }

  async close(): Promise<void> {
    await this.transport?.close();
  }
}

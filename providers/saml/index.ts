// Upstream SAML 2.0 adapter (eIDAS nodes and SAML eID providers): signed AuthnRequests by HTTP-Redirect
// or HTTP-POST, responses by HTTP-POST, optionally encrypted assertions, declarative attribute mapping,
// eIDAS levels of assurance. See README.md beside this file for what is and is not supported.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Express } from 'express';
import { z } from 'zod';
import {
  AdapterConfigError,
  ProviderError,
  type AdapterCheckContext,
  type AdapterProblem,
  type AdapterDeps,
  type AdapterFactory,
  type CallbackContext,
  type CallbackResult,
  type ProviderAdapter,
  type StartContext,
  type StartResult,
} from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { readableFile } from '../../src/config/secret.ts';
import { memoryLogger } from '../../src/logger.ts';
import { createProviderTransport, type ProviderTransport } from '../../src/tls/transport.ts';
import { LOA_LEVELS, LOA_URI, loaRank, loaSatisfies, parseLoa, type Loa } from '../../src/identity/loa.ts';
import { AttributeError, attributesConfigSchema, mapAttributes } from './attributes.ts';
import {
  eidasExtensionsSchema,
  resolveEidasExtensions,
  unrequestedMappedAttributes,
  type EidasExtensions,
} from './eidas.ts';
import type { IdpDescription } from './idp-metadata.ts';
import { MetadataIdpSource, errorDetail, fileLoader, staticIdp, urlLoader, type IdpSource } from './idp-source.ts';
import { loadOrCreateKeyPair, type KeyPair } from './keys.ts';
import { spMetadata } from './metadata.ts';
import { buildAuthnRequest } from './request.ts';
import { ResponseError, base64Limit, decodeSamlResponse, verifySamlResponse } from './response.ts';
import { DEFAULT_CANCEL_MESSAGES, statusError } from './status.ts';

const keyPairFiles = z.strictObject({ key: readableFile, cert: readableFile });

export const samlConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('saml'),
    /** The IdP, configured directly (all three fields), or read from `idp_metadata` / `metadata_url`. */
    idp: z
      .strictObject({
        /** the IdP's entity ID: the only accepted Issuer; with metadata it picks (and pins) the entity */
        entity_id: z.string().min(1).optional(),
        /** SingleSignOnService location (the same URL serves both bindings) */
        sso_url: z.url({ protocol: /^https?$/ }).optional(),
        /** PEM files of the IdP's signing certificates (two during a rollover); KeyInfo in messages is ignored */
        certificates: z.array(readableFile).min(1).optional(),
      })
      .optional(),
    /** IdP metadata file (EntityDescriptor or EntitiesDescriptor); re-read every metadata_refresh_seconds */
    idp_metadata: readableFile.optional(),
    /** IdP metadata fetched over this provider's back channel (its `tls` block); must be signed */
    metadata_url: z.url({ protocol: /^https?$/ }).optional(),
    /** PEM files that sign the metadata; when given, unsigned or differently signed metadata is refused */
    metadata_signing_certificates: z.array(readableFile).min(1).optional(),
    metadata_refresh_seconds: z.number().int().min(60).max(86_400).default(3600),
    max_metadata_bytes: z
      .number()
      .int()
      .min(4096)
      .max(50 * 1024 * 1024)
      .default(5 * 1024 * 1024),
    sp: z
      .strictObject({
        /** default: `<baseUrl>/providers/<id>/metadata` */
        entity_id: z.string().min(1).optional(),
        /** ACS URL published in metadata; default the broker callback `<baseUrl>/broker/callback/<id>` */
        acs_url: z.url().optional(),
        /** generated in the key directory on first start when absent (development only) */
        signing: keyPairFiles.optional(),
        encryption: keyPairFiles.optional(),
      })
      .default({}),
    /** how the AuthnRequest travels */
    binding: z.enum(['redirect', 'post']).default('redirect'),
    /** refuse plain assertions (eIDAS nodes always encrypt) */
    require_encrypted_assertion: z.boolean().default(false),
    /** ForceAuthn="true" is always sent (the IdP must authenticate the person anew, never reuse its
     * session); kept as a setting only so that an explicit `true` stays valid */
    force_authn: z
      .literal(true, { error: 'ForceAuthn is always sent: every login authenticates afresh' })
      .default(true),
    name_id_format: z.string().min(1).default('urn:oasis:names:tc:SAML:2.0:nameid-format:unspecified'),
    /** send RequestedAuthnContext with the eIDAS LoA URI of the requested level */
    request_authn_context: z.boolean().default(true),
    /** extra AuthnContextClassRef -> level entries for non-eIDAS IdPs (the eIDAS URIs are always known) */
    authn_context_levels: z.record(z.string().min(1), z.enum(LOA_LEVELS)).default({}),
    /** a preset (`eidas`, `oid`, `identity-claims`) or an explicit mapping */
    attributes: attributesConfigSchema,
    amr: z.array(z.string().min(1)).min(1).default(['saml']),
    clock_skew_seconds: z.number().int().min(0).max(300).default(60),
    max_response_bytes: z
      .number()
      .int()
      .min(4096)
      .max(2 * 1024 * 1024)
      .default(256 * 1024),
    /** how long an AuthnRequest ID stays answerable */
    request_ttl_seconds: z.number().int().min(60).max(3600).default(600),
    /** case-insensitive fragments of a status message that mean the user cancelled */
    cancel_status_messages: z.array(z.string().min(1)).default(DEFAULT_CANCEL_MESSAGES),
    /** eIDAS SPType and RequestedAttributes in the AuthnRequest; default on with the eIDAS attribute names */
    eidas_extensions: eidasExtensionsSchema.optional(),
  })
  .superRefine((v, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (v.idp_metadata && v.metadata_url) issue(['metadata_url'], 'give either idp_metadata or metadata_url, not both');
    if (v.idp_metadata || v.metadata_url) {
      // the metadata is the one source of truth for what it describes
      if (v.idp?.sso_url) issue(['idp', 'sso_url'], 'comes from the IdP metadata; remove it');
      if (v.idp?.certificates) issue(['idp', 'certificates'], 'come from the IdP metadata; remove them');
    } else {
      if (!v.idp) issue(['idp'], 'configure the IdP (entity_id, sso_url, certificates) or give idp_metadata');
      else
        for (const k of ['entity_id', 'sso_url', 'certificates'] as const)
          if (!v.idp[k]) issue(['idp', k], 'required without idp_metadata or metadata_url');
    }
    if (v.metadata_url && !v.metadata_signing_certificates)
      issue(
        ['metadata_signing_certificates'],
        'metadata fetched from metadata_url must be signed: name its signing certificate(s)',
      );
    const ext = resolveEidasExtensions(v.eidas_extensions, v.attributes);
    if (ext) {
      const missing = unrequestedMappedAttributes(ext, v.attributes);
      if (missing.length)
        issue(
          ['eidas_extensions', 'requested_attributes'],
          `must request the mapped attribute(s) as required: ${missing.join(', ')}`,
        );
    }
  });

export type SamlProviderConfig = z.infer<typeof samlConfigSchema>;

const REQUEST_ID_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

interface SamlConnData {
  requestId: string;
}

function isConnData(value: unknown): value is SamlConnData {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SamlConnData).requestId === 'string' &&
    REQUEST_ID_RE.test((value as SamlConnData).requestId)
  );
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export class SamlAdapter implements ProviderAdapter {
  readonly kind = 'saml';
  readonly id: string;
  readonly maxLoa: Loa;
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

  async start(ctx: StartContext): Promise<StartResult> {
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
    const connData: SamlConnData = { requestId: built.id };
    return { action: built.action, connData, requestDigest: `sha256:${sha256(built.xml)}` };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    const relayState = params.RelayState;
    return typeof relayState === 'string' && relayState.length > 0 && relayState.length <= 80 ? relayState : undefined;
  }

  async callback(ctx: CallbackContext): Promise<CallbackResult> {
    if (!isConnData(ctx.connData)) throw new ProviderError('invalid_response', 'login carries no SAML request ID');
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
    let outcome;
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
      });
    } catch (err) {
      if (err instanceof ResponseError) throw new ProviderError('invalid_response', err.message);
      throw err;
    }
    if (!outcome.ok) throw statusError(outcome.status, this.config.cancel_status_messages);
    const a = outcome.assertion;

    const ttl = Math.max(1, Math.ceil((a.notOnOrAfter + skewMs - now) / 1000));
    if (!(await this.deps.store.setIfAbsent(`saml:assertion:${this.id}:${sha256(`${a.issuer}\n${a.id}`)}`, '1', ttl))) {
      throw new ProviderError('invalid_response', 'assertion replayed (its ID was seen before)');
    }

    // ForceAuthn asked for a new authentication; an IdP that reused its session says so in AuthnInstant
    const authTime = freshAuthTime(
      a.authnInstant,
      ctx.loginStartedAt,
      { clockSkewSeconds: this.config.clock_skew_seconds },
      'AuthnInstant',
    );
    const loa = this.levelOf(a.authnContextClassRef);
    if (!loaSatisfies(loa, ctx.acr)) throw new ProviderError('loa_too_low', `achieved ${loa}, requested ${ctx.acr}`);
    let person;
    try {
      person = mapAttributes(a.attributes, this.config.attributes);
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
        raw: { issuer: a.issuer, authnContextClassRef: a.authnContextClassRef, signedBy: a.signedBy },
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

/** The SP's entity ID and ACS URL for a provider entry (defaults derive from the gateway's base URL). */
export function spEndpoints(
  config: Pick<SamlProviderConfig, 'id' | 'sp'>,
  baseUrl: string,
): { entityId: string; acsUrl: string } {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    entityId: config.sp.entity_id ?? `${base}/providers/${config.id}/metadata`,
    acsUrl: config.sp.acs_url ?? `${base}/broker/callback/${config.id}`,
  };
}

/** The SP's signing and encryption key pairs: configured, or (outside production) generated in keyDir. */
export async function spKeyPairs(
  config: Pick<SamlProviderConfig, 'id' | 'sp'>,
  o: { keyDir: string; production: boolean },
): Promise<{ signing: KeyPair; encryption: KeyPair }> {
  const common = { keyDir: o.keyDir, production: o.production };
  const signing = await loadOrCreateKeyPair({
    ...common,
    configured: config.sp.signing,
    name: `saml-${config.id}-signing`,
    commonName: `${config.id} SAML SP signing`,
  });
  const encryption = await loadOrCreateKeyPair({
    ...common,
    configured: config.sp.encryption,
    name: `saml-${config.id}-encryption`,
    commonName: `${config.id} SAML SP encryption`,
  });
  return { signing, encryption };
}

const https = (url: string | undefined) => url === undefined || url.startsWith('https://');

/** Options of a metadata source for this entry (no I/O beyond reading the configured signing certificates). */
function metadataCommon(config: SamlProviderConfig, production: boolean, logger: AdapterDeps['logger']) {
  return {
    entityId: config.idp?.entity_id,
    signingCertificates: config.metadata_signing_certificates?.map((path) => readFileSync(path, 'utf8')),
    binding: config.binding,
    refreshMs: config.metadata_refresh_seconds * 1000,
    maxBytes: config.max_metadata_bytes,
    logger,
    requireHttps: production,
  };
}

/**
 * What production refuses in a SAML entry, with paths relative to it: plain http towards the IdP and
 * SP keys that would be generated. An `idp_metadata` file is read and verified here too (no network),
 * so `config check` refuses what `start` would; a `metadata_url` is only fetched once the gateway runs.
 */
export async function checkSaml(config: SamlProviderConfig, ctx: AdapterCheckContext): Promise<AdapterProblem[]> {
  const out: AdapterProblem[] = [];
  if (ctx.production) {
    if (!config.idp_metadata && !config.metadata_url && !https(config.idp?.sso_url))
      out.push({ path: ['idp', 'sso_url'], message: 'must be https in production' });
    if (config.metadata_url && !https(config.metadata_url))
      out.push({ path: ['metadata_url'], message: 'must be https in production' });
    for (const which of ['signing', 'encryption'] as const) {
      if (!config.sp[which])
        out.push({
          path: ['sp', which],
          message: 'key and certificate must be configured in production (generated keys are for development only)',
        });
    }
  }
  if (config.idp_metadata) {
    const source = new MetadataIdpSource({
      ...metadataCommon(config, ctx.production, memoryLogger()),
      origin: config.idp_metadata,
      load: fileLoader(config.idp_metadata),
      requireValidUntil: false,
    });
    try {
      await source.load();
    } catch (err) {
      out.push({ path: ['idp_metadata'], message: `${config.idp_metadata}: ${errorDetail(err)}` });
    }
  }
  return out;
}

/** The IdP source of a provider entry; metadata files are read (and refused when expired) right away. */
async function idpSourceFor(
  config: SamlProviderConfig,
  deps: AdapterDeps,
): Promise<{ source: IdpSource; transport?: ProviderTransport }> {
  const at = `provider ${config.id}`;
  if (!config.idp_metadata && !config.metadata_url) {
    const idp = config.idp!;
    const description: IdpDescription = {
      entityId: idp.entity_id!,
      ssoUrls: { redirect: idp.sso_url!, post: idp.sso_url! },
      certificates: idp.certificates!.map((path) => readFileSync(path, 'utf8')),
    };
    return { source: staticIdp(description) };
  }
  const common = metadataCommon(config, deps.production, deps.logger);
  if (config.idp_metadata) {
    // a file the operator put in place: it must be usable now, or the gateway does not start
    const source = new MetadataIdpSource({
      ...common,
      origin: config.idp_metadata,
      load: fileLoader(config.idp_metadata),
      requireValidUntil: false,
    });
    try {
      await source.load();
    } catch (err) {
      throw new Error(`${at}: idp_metadata ${config.idp_metadata}: ${errorDetail(err)}`);
    }
    return { source };
  }
  const url = config.metadata_url!;
  // the back channel: this provider's own transport (mutual TLS with its `tls` block)
  const transport = createProviderTransport(config.id, config.tls);
  // fetched metadata must expire, or a captured copy could be replayed forever
  const source = new MetadataIdpSource({
    ...common,
    origin: url,
    load: urlLoader(url, transport.fetch, config.max_metadata_bytes),
    requireValidUntil: true,
  });
  try {
    await source.load();
  } catch (err) {
    // like OIDC discovery: an unreachable IdP does not stop the gateway; logins retry and fail closed meanwhile
    deps.logger.warn('SAML IdP metadata could not be loaded at startup; retried on the next login', {
      provider: config.id,
      origin: url,
      detail: errorDetail(err),
    });
  }
  return { source, transport };
}

export async function createSamlAdapter(config: SamlProviderConfig, deps: AdapterDeps): Promise<SamlAdapter> {
  // fail closed for callers that did not run the kind's check first
  const problems = (await checkSaml(config, deps)).filter((p) => p.path[0] !== 'idp_metadata');
  if (problems.length) throw new AdapterConfigError(config.id, problems);
  const keys = await spKeyPairs(config, deps);
  const { source, transport } = await idpSourceFor(config, deps);
  return new SamlAdapter(config, deps, keys, source, transport);
}

export const factory: AdapterFactory<SamlProviderConfig> = {
  kind: 'saml',
  schema: samlConfigSchema,
  check: checkSaml,
  create: createSamlAdapter,
};

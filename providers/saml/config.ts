// The configuration of one SAML provider entry: the IdP (configured, from a metadata file or from a
// metadata URL), the SP's own endpoints and keys, the binding, attribute mapping and eIDAS levels.
import { z } from 'zod';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { readableFile } from '../../src/config/secret.ts';
import { LOA_LEVELS } from '../../src/identity/loa.ts';
import { attributesConfigSchema } from './attributes.ts';
import { eidasExtensionsSchema, resolveEidasExtensions, unrequestedMappedAttributes } from './eidas.ts';
import { DEFAULT_CANCEL_MESSAGES } from './status.ts';

const keyPairFiles = z.strictObject({ key: readableFile, cert: readableFile });

/** A size limit in bytes, between `min` and `max`. */
const byteLimit = (min: number, max: number, fallback: number) => z.number().int().min(min).max(max).default(fallback);

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
    /** seconds one fetch of metadata_url may take in all, connection to last byte; a refresh runs in the
     * background while the last good metadata is valid, so this only holds up logins when there is none */
    metadata_timeout_seconds: z.number().int().min(1).max(300).default(30),
    max_metadata_bytes: byteLimit(4096, 50 * 1024 * 1024, 5 * 1024 * 1024),
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
    max_response_bytes: byteLimit(4096, 2 * 1024 * 1024, 256 * 1024),
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

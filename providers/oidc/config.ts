// Configuration of one upstream OpenID provider (an eID or a bank network). Everything that decides
// whether an answer is trusted is pinned here (issuer, algorithms, claim names, acr mapping) and
// validated at startup, so a typo fails the start instead of a login.
import { z } from 'zod';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { secretSchema, readableFile } from '../../src/config/secret.ts';
import { LOA_LEVELS } from '../../src/identity/loa.ts';
import { assuranceSchema, claimsSchema } from './claims-config.ts';

/** Asymmetric JWS algorithms only: `none` and HS* (a shared secret, or a public key abused as one) are refused for upstream tokens. */
export const UPSTREAM_SIGNING_ALGS = [
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'Ed25519',
  'EdDSA',
] as const;
/** Algorithms our own key signs client assertions and request objects with. */
export const CLIENT_SIGNING_ALGS = ['PS256', 'RS256', 'ES256'] as const;
/** JWE key management algorithms openid-client decrypts with (RSA1_5 is deliberately absent). */
export const KEY_MANAGEMENT_ALGS = [
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'RSA-OAEP',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A256KW',
] as const;
export const CONTENT_ENCRYPTION_ALGS = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
] as const;

const httpsOrHttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const clientAuthSchema = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('client_secret_basic'), client_secret: secretSchema }),
  z.strictObject({ method: z.literal('client_secret_post'), client_secret: secretSchema }),
  /** signs a client assertion with the gateway's signing key for this provider (see `signing`) */
  z.strictObject({ method: z.literal('private_key_jwt') }),
  /** RFC 8705: the client certificate of the provider's `tls` block authenticates the gateway */
  z.strictObject({ method: z.literal('tls_client_auth') }),
]);

/** Static metadata for upstreams without (or with untrusted) discovery. */
const metadataSchema = z.strictObject({
  authorization_endpoint: httpsOrHttpUrl,
  token_endpoint: httpsOrHttpUrl,
  jwks_uri: httpsOrHttpUrl,
  userinfo_endpoint: httpsOrHttpUrl.optional(),
  pushed_authorization_request_endpoint: httpsOrHttpUrl.optional(),
});

const encryptionSchema = z.strictObject({
  /** require encrypted ID tokens (an unencrypted one is refused) */
  id_token: z.boolean().default(true),
  /** require encrypted, signed userinfo responses */
  userinfo: z.boolean().default(false),
  alg: z.enum(KEY_MANAGEMENT_ALGS).default('RSA-OAEP-256'),
  enc: z.array(z.enum(CONTENT_ENCRYPTION_ALGS)).min(1).default(['A256GCM', 'A128CBC-HS256']),
  /** PKCS#8 PEM private key; generated in the key directory on first start when absent */
  key: readableFile.optional(),
});

const signingSchema = z.strictObject({
  alg: z.enum(CLIENT_SIGNING_ALGS).default('PS256'),
  /** PKCS#8 PEM private key; generated in the key directory on first start when absent */
  key: readableFile.optional(),
});

const errorsSchema = z.strictObject({
  /** upstream `error` codes that mean the user cancelled */
  cancel_errors: z.array(z.string().min(1)).default(['user_cancel', 'cancelled']),
  /** an `access_denied` whose description matches this (case-insensitive) is a cancel too */
  cancel_description: z
    .string()
    .default('cancel|abort')
    .refine((s) => {
      try {
        new RegExp(s, 'i');
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression'),
});

export const oidcProviderSchema = providerBaseSchema
  .extend({
    type: z.literal('oidc'),
    /** issuer identifier; discovery runs against it unless `metadata` is given, and every token's `iss` must equal it */
    issuer: httpsOrHttpUrl,
    metadata: metadataSchema.optional(),
    client_id: z.string().min(1).max(200),
    client_auth: clientAuthSchema,
    scope: z
      .string()
      .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, 'must be space-separated scope tokens')
      .refine((s) => s.split(' ').includes('openid'), 'must include openid')
      .default('openid'),
    /** the one algorithm the upstream signs ID tokens with */
    id_token_signed_response_alg: z.enum(UPSTREAM_SIGNING_ALGS).default('RS256'),
    /** when set, userinfo must be a JWT signed with this algorithm */
    userinfo_signed_response_alg: z.enum(UPSTREAM_SIGNING_ALGS).optional(),
    /** fetch userinfo even when the claims come from the ID token */
    userinfo: z.boolean().default(false),
    /** RFC 9207: require `iss` in the authorization response (mix-up defence) */
    require_iss: z.boolean().default(true),
    /** JAR: send the authorization request as a signed request object */
    request_object: z.boolean().default(false),
    /** PAR: push the authorization request over the back channel first */
    par: z.boolean().default(false),
    signing: signingSchema.default({ alg: 'PS256' }),
    encryption: encryptionSchema.optional(),
    claims: claimsSchema,
    assurance: assuranceSchema,
    errors: errorsSchema.default({ cancel_errors: ['user_cancel', 'cancelled'], cancel_description: 'cancel|abort' }),
    /** max_age sent upstream with prompt=login: how old (s) an authentication may be when this login
     * starts. 0 (the default) asks for a new one; it can be raised a little, never switched off */
    max_age: z.number().int().min(0).max(600).default(0),
    /** seconds of clock skew tolerated on token timestamps, auth_time included */
    clock_tolerance: z.number().int().min(0).max(300).default(30),
    /** seconds before a back-channel call is abandoned */
    timeout: z.number().int().min(1).max(120).default(10),
    /** largest back-channel answer (discovery, JWKS, PAR, token, userinfo) read, in bytes; a larger one is
     * cut off while it arrives and the login refused */
    max_response_bytes: z
      .number()
      .int()
      .min(16 * 1024)
      .max(16 * 1024 * 1024)
      .default(1024 * 1024),
  })
  .superRefine((v, ctx) => {
    if (v.client_auth.method === 'tls_client_auth' && !v.tls?.cert) {
      ctx.addIssue({
        code: 'custom',
        path: ['client_auth'],
        message: 'tls_client_auth needs a tls block with the client certificate',
      });
    }
    if (v.claims.source === 'userinfo' && v.metadata && !v.metadata.userinfo_endpoint) {
      ctx.addIssue({
        code: 'custom',
        path: ['claims', 'source'],
        message: 'userinfo as claim source needs metadata.userinfo_endpoint',
      });
    }
    if (v.par && v.metadata && !v.metadata.pushed_authorization_request_endpoint) {
      ctx.addIssue({
        code: 'custom',
        path: ['par'],
        message: 'par needs metadata.pushed_authorization_request_endpoint',
      });
    }
    if (v.encryption?.userinfo && !v.userinfo_signed_response_alg) {
      ctx.addIssue({
        code: 'custom',
        path: ['encryption', 'userinfo'],
        message: 'encrypted userinfo must also be signed: set userinfo_signed_response_alg',
      });
    }
    const mapped = new Set([...Object.values(v.assurance.acr), ...Object.values(v.assurance.amr)]);
    const rank = (l: string) => LOA_LEVELS.indexOf(l as (typeof LOA_LEVELS)[number]);
    for (const level of mapped) {
      if (rank(level) > rank(v.loa)) {
        ctx.addIssue({
          code: 'custom',
          path: ['assurance'],
          message: `maps a value to ${level}, above the provider's level ${v.loa}`,
        });
      }
    }
  });

export type OidcProviderConfig = z.infer<typeof oidcProviderSchema>;
export type OidcProviderInput = z.input<typeof oidcProviderSchema>;

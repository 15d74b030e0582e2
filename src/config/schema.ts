// The gateway's configuration file: one YAML document, validated as a whole at startup. Provider entries
// are validated by the schema their adapter kind registers (src/registry/adapters.ts).
import { z } from 'zod';
import { secretSchema } from './secret.ts';
import { storeSchema } from './store-schema.ts';
import { auditConfigSchema } from '../audit/config.ts';
import { ipOrCidr, serverSchema } from '../tls/server-config.ts';
import { securitySchema } from '../tls/security-checks.ts';
import { localizedText, PROVIDER_GROUPS } from './provider-base.ts';
import { registryConfigSchema } from '../onboarding/config.ts';

export const SIGNING_ALGS = ['PS256', 'ES256', 'RS256'] as const;
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
] as const;

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const clientSchema = z.strictObject({
  client_id: z.string().regex(/^[A-Za-z0-9._:-]{2,100}$/, 'must be 2-100 characters of letters, digits, . _ : -'),
  client_name: z.string().min(1).max(100).optional(),
  /** the service's home page: the way back from a login that expired before it could end at the service */
  client_uri: url.optional(),
  client_secret: secretSchema.optional(),
  token_endpoint_auth_method: z.enum(CLIENT_AUTH_METHODS).default('client_secret_basic'),
  /** public keys for private_key_jwt (or self_signed_tls_client_auth) */
  jwks: z.strictObject({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  jwks_uri: url.optional(),
  /** RFC 8705 tls_client_auth: the certificate subject DN the client must present */
  tls_client_auth_subject_dn: z.string().optional(),
  redirect_uris: z.array(url).min(1),
  post_logout_redirect_uris: z.array(url).default([]),
  id_token_signed_response_alg: z.enum(SIGNING_ALGS).default('PS256'),
  subject_type: z.enum(['public', 'pairwise']).default('public'),
  /** providers this service may offer; default: every eligible provider */
  providers: z.array(z.string()).optional(),
  /** scopes the service may request beyond openid */
  scopes: z.array(z.enum(['profile', 'personal_code'])).default(['profile', 'personal_code']),
  /** RFC 9207 iss in authorization error responses; false for RPs that mis-handle it (mod_auth_openidc 2.4.12) */
  authorization_error_iss: z.boolean().default(true),
  /** a test service: also offered providers at the joining process's testing stage */
  test: z.boolean().default(false),
});

export type ClientConfig = z.infer<typeof clientSchema>;

// A login takes one authorization request, three or four interaction pages and one provider callback; the
// defaults leave room for hundreds of citizens logging in at once behind one shared NAT address.
export const limitsSchema = z.strictObject({
  /** length of the fixed counting window */
  window_seconds: z.number().int().min(1).max(3600).default(60),
  /** requests to the authorization endpoint (/auth) and to logout (/session/end) per address and window */
  authorization: z.number().int().min(1).max(1_000_000).default(300),
  /** requests to the login pages (/interaction/...) per address and window */
  interaction: z.number().int().min(1).max(1_000_000).default(900),
  /** provider callbacks (/broker/callback/...) per address and window */
  callback: z.number().int().min(1).max(1_000_000).default(300),
  /** requests to the pages adapters serve themselves (/providers/<id>/...: Smart-ID's form, waiting page,
   * its status poll and a QR code redrawn every second, SAML metadata) per address and window; a QR login
   * asks about 65 times a minute while it waits */
  provider_pages: z.number().int().min(1).max(1_000_000).default(6000),
  /** ways back to the service (a login's abort and the resume carrying its OAuth error) per address and
   * window beyond the bucket of their route: a limited user can still end the login at the service */
  way_back: z.number().int().min(1).max(1_000_000).default(100),
  /** failed token requests (a wrong client secret, a made-up code) recorded one by one per address and
   * window; beyond, one record says how many were left out, so a flood of them cannot fill the audit log */
  token_errors: z.number().int().min(1).max(1_000_000).default(100),
  /** audit records no login can be found for (callbacks whose state no login issued, authorization requests
   * refused before a login began, rate limits met outside one) per window, every address and instance together */
  anonymous_records: z.number().int().min(1).max(1_000_000).default(1200),
  /** userinfo answers per login (its access token's grant) and window: each is an audit record */
  userinfo: z.number().int().min(1).max(1_000_000).default(20),
  /** provider round trips one login may start (choosing again, reloading the provider start) */
  provider_starts: z.number().int().min(1).max(20).default(5),
});

export type LimitsConfig = z.infer<typeof limitsSchema>;

/** What the citizen sees around the login: the gateway's name, help and privacy notice in the footer,
 * the order of the provider groups, and how long a refusal page waits before returning to the service. */
export const uiSchema = z.strictObject({
  name: localizedText.default({ lv: 'Vienotā pieteikšanās', en: 'Unified login', ru: 'Единый вход' }),
  help: z
    .strictObject({
      email: z.email().optional(),
      phone: z
        .string()
        .regex(/^\+?[0-9 ]{5,20}$/, 'must be a phone number such as +371 67000000')
        .optional(),
      url: url.optional(),
    })
    .optional(),
  /** the privacy notice (GDPR Art. 13): an http(s) URL or a path on the gateway */
  privacy_url: z
    .union([url, z.string().regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a URL or a path such as /privacy')])
    .optional(),
  groups: z
    .array(z.enum(PROVIDER_GROUPS))
    .min(1)
    .default([...PROVIDER_GROUPS]),
  /** a refusal page returns the user to the service after this many seconds (also without scripts) */
  return_after_seconds: z.number().int().min(5).max(120).default(20),
});

export type UiConfig = z.infer<typeof uiSchema>;

// A rotated key is published `publish_delay` seconds before it signs; every instance reloads its keys
// every `reload_interval` seconds, so the delay must cover a reload for every instance to publish the key
// before any signs with it (src/keys/lifecycle.ts).
export const keysSchema = z
  .strictObject({
    /** where the one key set lives: `dir` (keys.dir) or `store` (the shared Redis store) */
    source: z.enum(['dir', 'store']).default('dir'),
    dir: z.string().min(1).default('var/keys'),
    publish_delay: z
      .number()
      .int()
      .min(0)
      .max(30 * 86400)
      .default(600),
    reload_interval: z.number().int().min(1).max(3600).default(30),
  })
  .refine((k) => k.publish_delay >= k.reload_interval, {
    path: ['publish_delay'],
    message: 'must be at least keys.reload_interval: every instance must publish a key before any signs with it',
  });

const gatewayFields = z.strictObject({
  issuer: url,
  /** production mode: https everywhere, mutual TLS on back channels, no dev defaults */
  production: z.boolean().default(false),
  port: z.number().int().min(0).max(65535).default(3000),
  /**
   * TLS terminators in front of the gateway: a list of their addresses / CIDR blocks (Express `trust
   * proxy`: the client address of a request comes from X-Forwarded-For only when its peer is listed).
   * `true` trusts any peer (development only); `false` none. Published URLs always come from the issuer.
   */
  proxy: z.union([z.boolean(), z.array(ipOrCidr).min(1)]).default(false),
  store: storeSchema.prefault({ type: 'memory' }),
  /** token and cookie keys and their rotation (src/keys/) */
  keys: keysSchema.prefault({}),
  /** cookie signing keys: a static set instead of the rotated cookie keys of `keys.dir` */
  cookie_keys: z.array(secretSchema).min(1).optional(),
  /** salt for pairwise subject identifiers */
  pairwise_salt: secretSchema.optional(),
  ttl: z
    .strictObject({
      login: z.number().int().min(30).max(3600).default(600),
      interaction: z.number().int().min(60).max(3600).default(900),
      session: z.number().int().min(60).max(86400).default(3600),
      access_token: z.number().int().min(30).max(3600).default(600),
      id_token: z.number().int().min(30).max(3600).default(600),
      authorization_code: z.number().int().min(10).max(600).default(60),
    })
    .default({ login: 600, interaction: 900, session: 3600, access_token: 600, id_token: 600, authorization_code: 60 }),
  /** abuse limits per client address, counted in the store so every instance shares them (src/web/rate-limit.ts) */
  limits: limitsSchema.prefault({}),
  /** the signed, tamper-evident audit log (src/audit/config.ts) */
  audit: auditConfigSchema.prefault({}),
  /** startup security checks (src/tls/security-checks.ts) */
  security: securitySchema.prefault({}),
  providers: z.array(z.record(z.string(), z.unknown())).default([]),
  /** the providers' VPM joining records (src/onboarding); absent: each entry's `onboarding` block */
  registry: registryConfigSchema.optional(),
  clients: z.array(clientSchema).default([]),
  /** the demo agency service page at / (development only) */
  demo: z
    .strictObject({ enabled: z.boolean().default(false), client_id: z.string().default('demo-service') })
    .default({ enabled: false, client_id: 'demo-service' }),
  /** HTTPS listener and agency-service client certificates (src/tls/server-config.ts) */
  server: serverSchema.optional(),
  /** Prometheus metrics on their own plain-HTTP listener (src/ops/metrics.ts); off when absent */
  metrics: z
    .strictObject({
      port: z.number().int().min(0).max(65535),
      host: z.string().min(1).default('127.0.0.1'),
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be a path such as /metrics')
        .default('/metrics'),
    })
    .optional(),
  log_level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** the login pages' branding and footer */
  ui: uiSchema.prefault({}),
});

export const gatewaySchema = gatewayFields
  // a memory store is neither shared by instances nor kept across restarts: no place for the key set
  .refine((c) => c.keys.source !== 'store' || c.store.type === 'redis', {
    path: ['keys', 'source'],
    message: 'store needs store.type redis (a memory store is not shared and forgets the keys at exit)',
  });

export type GatewayFileConfig = z.infer<typeof gatewaySchema>;

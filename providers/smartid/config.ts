// Configuration of one Smart-ID provider entry (RP API v3, SK ID Solutions).
import { z } from 'zod';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { readableFile, secretSchema } from '../../src/config/secret.ts';
import { SUPPORTED_COUNTRIES } from '../../src/identity/personal-code.ts';

export const smartIdSchema = providerBaseSchema.extend({
  type: z.literal('smartid'),
  /** RP API v3, or v2 for relying parties still on it (notification flow only, PKCS#1 v1.5 over a hash) */
  api_version: z.enum(['v3', 'v2']).default('v3'),
  /** RP API base ending in its version, e.g. https://rp-api.smart-id.com/v3/ (trailing slash added) */
  url: z.url({ protocol: /^https?$/ }).transform((u) => (u.endsWith('/') ? u : `${u}/`)),
  /** the relying party's UUID at SK: with the source address, what authenticates us (a secret) */
  relying_party_uuid: secretSchema.pipe(z.uuid()),
  /** the name registered at SK, shown in the app (at most 32 bytes of UTF-8) */
  relying_party_name: z
    .string()
    .min(1)
    .refine((n) => Buffer.byteLength(n, 'utf8') <= 32, 'must be at most 32 bytes of UTF-8'),
  /** what the app shows per agency service (client_id -> text); other services show relying_party_name */
  service_names: z.record(z.string().min(1), z.string().min(1).max(200)).default({}),
  /** the lowest certificate level accepted: QUALIFIED -> high, ADVANCED -> substantial */
  certificate_level: z.enum(['QUALIFIED', 'ADVANCED']).default('QUALIFIED'),
  /** PEM files of the SK CAs that issue Smart-ID authentication certificates (the only trust anchors) */
  ca_certificates: z.array(readableFile).min(1),
  /** PEM files of the RP API's TLS leaf certificates (old and new while SK rotates): their keys are pinned */
  pinned_certificates: z.array(readableFile).default([]),
  /** SK's demo environment signs `smart-id-demo|...` instead of `smart-id|...` */
  environment: z.enum(['live', 'demo']).default('live'),
  hash_algorithm: z.enum(['SHA-256', 'SHA-384', 'SHA-512', 'SHA3-256', 'SHA3-384', 'SHA3-512']).default('SHA-512'),
  /** offer the Web2App device-link flow (the app on the same phone, no personal code typed) */
  web2app: z.boolean().default(true),
  /** offer the QR device-link flow (a desktop browser, the app on a phone; no personal code typed) */
  qr: z.boolean().default(true),
  /**
   * Revocation checks by OCSP after the app signed: `url` (default: the certificate's AIA responder),
   * extra trusted `responder_certificates` (PEM), and `required`: without a current signed answer the
   * login is refused (temporarily_unavailable) instead of going on with a warning in the log.
   */
  ocsp: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).optional(),
      responder_certificates: z.array(readableFile).default([]),
      required: z.boolean().default(true),
      max_age_seconds: z
        .int()
        .min(60)
        .max(7 * 86_400)
        .default(86_400),
      timeout_ms: z.int().min(500).max(30_000).default(5000),
      /** the answer must echo the request's nonce (RFC 8954), else an answer recorded earlier, from before a
       * revocation, could be replayed for max_age_seconds; false only for a responder that answers from
       * responses signed in advance */
      nonce: z.boolean().default(true),
    })
    .optional(),
  /** countries offered on the personal code form */
  countries: z.array(z.enum(SUPPORTED_COUNTRIES)).min(1).default(['LV', 'EE', 'LT']),
  /** one long poll of the RP API while the waiting page's script waits (SK: 1000..120000) */
  long_poll_ms: z.int().min(1000).max(60_000).default(20_000),
  /** how long a login may wait for the app in all (the RP API ends sessions itself too) */
  session_ttl_seconds: z.int().min(60).max(900).default(300),
  /**
   * Per person (the semantics identifier), across every instance on the store: a session started by a typed
   * personal code pushes a prompt to that person's phone, so at most `starts` of them per `window_seconds` (a
   * start the person confirmed is given back) and one running at a time (./notification-limit.ts). Device
   * links (QR, Web2App) name nobody and are not counted.
   */
  notification_limit: z
    .strictObject({
      starts: z.int().min(1).max(20).default(3),
      window_seconds: z.int().min(60).max(86_400).default(300),
    })
    .prefault({}),
});

export type SmartIdConfig = z.infer<typeof smartIdSchema>;

// Fields every provider entry has, whatever its adapter kind. Adapter schemas extend this.
import { z } from 'zod';
import { LOA_LEVELS } from '../identity/loa.ts';
import { tlsClientSchema } from '../tls/transport.ts';

export const ONBOARDING_STAGES = [
  'application',
  'review',
  'agreement_drafting',
  'signing',
  'development',
  'testing',
  'production',
] as const;
export type OnboardingStage = (typeof ONBOARDING_STAGES)[number];

/** A name in the page languages (src/login/locale.ts): Latvian and English required, Russian optional. */
export const localizedText = z.strictObject({
  lv: z.string().min(1).max(100),
  en: z.string().min(1).max(100),
  ru: z.string().min(1).max(100).optional(),
});

/** The selection page's groups: banks, eID means, and foreign eID means reached through eIDAS. */
export const PROVIDER_GROUPS = ['bank', 'eid', 'eidas'] as const;
export type ProviderGroup = (typeof PROVIDER_GROUPS)[number];

/** A logo file served by the gateway itself (no third-party requests from the login pages). */
export const logoFile = z.string().regex(/\.(svg|png)$/i, 'must be the path of an .svg or .png file');

export const onboardingSchema = z.strictObject({
  /** the VPM joining process's seven stages: `production` is offered to every service, `testing` to the
   * `test: true` services (in production mode too; outside it, to every service) */
  stage: z.enum(ONBOARDING_STAGES),
  /** banks: an active credit institution licence (Latvijas Banka, formerly FKTK) */
  licence: z.strictObject({ number: z.string().min(1), valid_until: z.iso.date() }).optional(),
  /** other eID providers: entry in the Ministry of Defence register of eID providers */
  eid_register: z
    .strictObject({ entry: z.string().min(1), qualified: z.boolean(), valid_until: z.iso.date().optional() })
    .optional(),
  /** the VPM joining conditions require the service to be free of charge */
  free_of_charge: z.boolean(),
  /** two-factor authentication is offered (VPM joining conditions: "online two-factor authentication") */
  two_factor: z.boolean(),
});

export const providerBaseSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,29}$/, 'must be 1-30 lower-case letters, digits or hyphens'),
  type: z.string(),
  name: localizedText,
  /** bank (needs a licence) or eid (needs the eID register) */
  kind: z.enum(['bank', 'eid']),
  /** highest level of assurance this provider delivers */
  loa: z.enum(LOA_LEVELS),
  /** selection page group; default: the kind (bank or eid) */
  group: z.enum(PROVIDER_GROUPS).optional(),
  /** logo shown on the selection page: an SVG or PNG file, read at start-up and served locally */
  logo: logoFile.optional(),
  /** the joining verdict inline; with a `registry` the provider's record there replaces it */
  onboarding: onboardingSchema.optional(),
  /** mutual TLS for back-channel calls to this provider */
  tls: tlsClientSchema.optional(),
});

export type ProviderBaseConfig = z.infer<typeof providerBaseSchema>;

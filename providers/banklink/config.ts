// Configuration of one banklink bank (one provider entry). Key files are paths relative to the cwd.
import { z } from 'zod';
import { providerBaseSchema } from '../../src/config/provider-base.ts';
import { readableFile, secretSchema } from '../../src/config/secret.ts';
import { LOA_LEVELS, type Loa } from '../../src/identity/loa.ts';
import { SUPPORTED_COUNTRIES } from '../../src/identity/personal-code.ts';
import { NAME_FORMATS } from './names.ts';
import { ENCODINGS, type Hash } from './protocol.ts';

export interface TokenMethod {
  amr: string[];
  loa: Loa;
}

/** VK_TOKEN values from the reference, mapped to an `amr` and the level that method reaches. */
export const DEFAULT_TOKENS: Record<string, TokenMethod> = {
  '1': { amr: ['idcard'], loa: 'high' },
  '2': { amr: ['mid'], loa: 'high' },
  '5': { amr: ['otp'], loa: 'substantial' },
  '6': { amr: ['pin_calculator'], loa: 'substantial' },
  '7': { amr: ['code_card'], loa: 'low' },
};

const bankId = z
  .string()
  .min(1)
  .max(15)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without blanks');

export const banklinkSchema = providerBaseSchema
  .extend({
    type: z.literal('banklink'),
    /** the bank's banklink endpoint (the form posts there) */
    url: z.url({ protocol: /^https?$/ }),
    /** the gateway's id at this bank: VK_SND_ID of requests, VK_REC_ID of answers */
    sender_id: bankId,
    /** the bank's id: VK_REC_ID of 4012 requests, VK_SND_ID of answers */
    receiver_id: bankId,
    version: z.enum(['008', '009']).default('009'),
    /** 4012 (with nonce, preferred) or 4011 (no nonce: VK_RID is the only binding) */
    service: z.enum(['4012', '4011']).default('4012'),
    /** signature hash; default SHA-1 for 008 and SHA-512 for 009. SHA-1 needs `legacy: true`. */
    hash: z.enum(['sha512', 'sha1']).optional(),
    legacy: z.boolean().default(false),
    /** PEM file of the gateway's RSA private key for this bank */
    private_key: readableFile,
    private_key_passphrase: secretSchema.optional(),
    /** PEM file of the bank's certificate (its public key verifies the answers) */
    bank_certificate: readableFile,
    encoding: z.enum(ENCODINGS).default('UTF-8'),
    /** how the MAC length prefixes count: characters (everyone's default) or bytes (a bank quirk) */
    length_mode: z.enum(['characters', 'bytes']).default('characters'),
    /** how VK_USER_NAME splits into given and family name */
    name_format: z.enum(NAME_FORMATS).default('surname_comma_given'),
    /** VK_DATETIME of an answer must lie within this many seconds of now, either way */
    datetime_window_seconds: z.int().min(10).max(3600).default(300),
    /** VK_DATETIME may precede the start of this login by at most this much clock difference: an older
     * answer belongs to an earlier authentication */
    clock_skew_seconds: z.int().min(0).max(300).default(30),
    /** how long an issued nonce stays usable */
    nonce_ttl_seconds: z.int().min(60).max(3600).default(900),
    /** VK_LANG per user interface language */
    language: z
      .strictObject({ lv: z.string().regex(/^[A-Z]{3}$/), en: z.string().regex(/^[A-Z]{3}$/) })
      .default({ lv: 'LAT', en: 'ENG' }),
    /** VK_COUNTRY values accepted from this bank */
    countries: z.array(z.enum(SUPPORTED_COUNTRIES)).min(1).default(['LV', 'EE', 'LT']),
    /** VK_TOKEN -> amr and level; replaces the defaults when given */
    tokens: z
      .record(
        z.string().regex(/^\d{1,2}$/),
        z.strictObject({ amr: z.array(z.string().min(1)).min(1), loa: z.enum(LOA_LEVELS) }),
      )
      .optional(),
  })
  .superRefine((c, ctx) => {
    if (c.version === '008' && c.hash === 'sha512')
      ctx.addIssue({ code: 'custom', path: ['hash'], message: 'VK_VERSION 008 is SHA-1 by definition' });
    if (effectiveHash(c) === 'sha1' && !c.legacy) {
      ctx.addIssue({
        code: 'custom',
        path: ['legacy'],
        message: 'SHA-1 (VK_VERSION 008 or hash sha1) is only accepted for a bank marked legacy: true',
      });
    }
  });

export type BanklinkConfig = z.infer<typeof banklinkSchema>;

export function effectiveHash(c: { version: '008' | '009'; hash?: Hash | undefined }): Hash {
  return c.hash ?? (c.version === '008' ? 'sha1' : 'sha512');
}

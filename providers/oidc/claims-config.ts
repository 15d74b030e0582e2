// How an upstream OpenID provider's claims become our identity, as its configuration declares: which
// claims hold the names and the personal code (and the code's pattern), and which upstream acr or amr
// values mean which level of assurance. Checked at startup (providers/oidc/config.ts), used by claims.ts.
import { z } from 'zod';
import { LOA_LEVELS } from '../../src/identity/loa.ts';
import { SUPPORTED_COUNTRIES } from '../../src/identity/personal-code.ts';

const claimName = z.string().regex(/^[A-Za-z0-9_:.\-/]{1,100}$/, 'must be a claim name');

/** Where one identity attribute comes from. A `pattern` like `PNO{country}-{code}` parses a semantics identifier. */
const personalCodeSchema = z
  .strictObject({
    claim: claimName,
    pattern: z.string().min(1).max(100).optional(),
    /** issuing country when the value does not carry one */
    country: z.enum(SUPPORTED_COUNTRIES as unknown as ['LV', 'EE', 'LT']).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.pattern !== undefined) {
      const codes = v.pattern.split('{code}').length - 1;
      const countries = v.pattern.split('{country}').length - 1;
      if (codes !== 1)
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'pattern must contain {code} exactly once' });
      if (countries > 1)
        ctx.addIssue({ code: 'custom', path: ['pattern'], message: 'pattern may contain {country} at most once' });
      const rest = v.pattern.replace('{code}', '').replace('{country}', '');
      if (/[{}]/.test(rest))
        ctx.addIssue({
          code: 'custom',
          path: ['pattern'],
          message: 'pattern knows only the placeholders {country} and {code}',
        });
      if (countries === 1 && v.country)
        ctx.addIssue({
          code: 'custom',
          path: ['country'],
          message: 'give either a {country} placeholder or a fixed country, not both',
        });
      if (countries === 0 && !v.country)
        ctx.addIssue({
          code: 'custom',
          path: ['country'],
          message: 'pattern has no {country}: name the fixed country',
        });
    } else if (!v.country) {
      ctx.addIssue({
        code: 'custom',
        path: ['country'],
        message: 'without a pattern the issuing country must be given',
      });
    }
  });

export const claimsSchema = z.strictObject({
  /** the signed ID token, or the userinfo response (whose `sub` must equal the ID token's) */
  source: z.enum(['id_token', 'userinfo']).default('id_token'),
  given_name: claimName.default('given_name'),
  family_name: claimName.default('family_name'),
  personal_code: personalCodeSchema,
});

const loaLevel = z.enum(LOA_LEVELS);

export const assuranceSchema = z
  .strictObject({
    /** upstream `acr` value -> our level; an `acr` not listed here is refused */
    acr: z.record(z.string().min(1), loaLevel).default({}),
    /** upstream `amr` value -> our level; used only when the ID token carries no `acr` */
    amr: z.record(z.string().min(1), loaLevel).default({}),
    /** send `acr_values` (the mapped values at or above the requested level) upstream */
    request_acr_values: z.boolean().default(true),
  })
  .refine((v) => Object.keys(v.acr).length + Object.keys(v.amr).length > 0, {
    message: 'map at least one upstream acr or amr value to a level of assurance',
  });

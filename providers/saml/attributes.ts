// Declarative attribute mapping: which SAML attribute carries the given name, family name and personal
// code, and how the code is written. Three presets cover what eID providers send; a provider may also
// spell out its own mapping in configuration.
import { z } from 'zod';
import type { RawIdentity } from '../../src/identity/identity.ts';

export const EIDAS_NATURAL_PERSON = 'http://eidas.europa.eu/attributes/naturalperson/';
export const IDENTITY_CLAIMS = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';

/** How the personal-code attribute is written. */
export const CODE_FORMATS = {
  /** eIDAS PersonIdentifier `LV/EE/010180-15097`: issuing country / receiving country / national code */
  eidas: /^([A-Z]{2})\/[A-Z]{2}\/(.{1,40})$/,
  /** ETSI EN 319 412-1 semantics identifier `PNOLV-010180-15097` (serialNumber, urn:oid:2.5.4.5) */
  etsi: /^PNO([A-Z]{2})-(.{1,40})$/,
  /** the bare national code; the country comes from the mapping */
  plain: /^()(.{1,40})$/,
} as const;
export type CodeFormat = keyof typeof CODE_FORMATS;

export const attributeMappingSchema = z.strictObject({
  given_name: z.string().min(1),
  family_name: z.string().min(1),
  personal_code: z.strictObject({
    name: z.string().min(1),
    format: z.enum(Object.keys(CODE_FORMATS) as [CodeFormat, ...CodeFormat[]]),
    /** country of `plain` codes */
    country: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .default('LV'),
  }),
});
export type AttributeMapping = z.infer<typeof attributeMappingSchema>;

export const ATTRIBUTE_PRESETS = {
  /** eIDAS minimum data set for natural persons (eIDAS nodes) */
  eidas: {
    given_name: `${EIDAS_NATURAL_PERSON}CurrentGivenName`,
    family_name: `${EIDAS_NATURAL_PERSON}CurrentFamilyName`,
    personal_code: { name: `${EIDAS_NATURAL_PERSON}PersonIdentifier`, format: 'eidas', country: 'LV' },
  },
  /** X.500 attribute OIDs (givenName, sn, serialNumber with PNOLV- values) */
  oid: {
    given_name: 'urn:oid:2.5.4.42',
    family_name: 'urn:oid:2.5.4.4',
    personal_code: { name: 'urn:oid:2.5.4.5', format: 'etsi', country: 'LV' },
  },
  /** the claim names Latvia's current login module (VPM) uses */
  'identity-claims': {
    given_name: `${IDENTITY_CLAIMS}givenname`,
    family_name: `${IDENTITY_CLAIMS}surname`,
    personal_code: { name: `${IDENTITY_CLAIMS}privatepersonalidentifier`, format: 'plain', country: 'LV' },
  },
} as const satisfies Record<string, AttributeMapping>;
export type AttributePreset = keyof typeof ATTRIBUTE_PRESETS;

export const attributesConfigSchema = z
  .union([z.enum(Object.keys(ATTRIBUTE_PRESETS) as [AttributePreset, ...AttributePreset[]]), attributeMappingSchema])
  .default('eidas')
  .transform((v): AttributeMapping => (typeof v === 'string' ? ATTRIBUTE_PRESETS[v] : v));

export class AttributeError extends Error {
  override name = 'AttributeError';
}

function single(attributes: ReadonlyMap<string, (string | null)[]>, name: string, what: string): string {
  const values = attributes.get(name);
  if (!values || values.length === 0) throw new AttributeError(`assertion lacks the ${what} attribute`);
  if (values.length > 1) throw new AttributeError(`assertion has ${values.length} values for the ${what} attribute`);
  if (values[0] === null) throw new AttributeError(`the ${what} attribute is not a text value`);
  return values[0]!;
}

/** Names and personal code from the verified attributes; format errors carry no attribute value. */
export function mapAttributes(
  attributes: ReadonlyMap<string, (string | null)[]>,
  mapping: AttributeMapping,
): Pick<RawIdentity, 'givenName' | 'familyName' | 'personalCode' | 'country'> {
  const rawCode = single(attributes, mapping.personal_code.name, 'personal code');
  const match = CODE_FORMATS[mapping.personal_code.format].exec(rawCode);
  if (!match) throw new AttributeError(`personal code attribute is not in ${mapping.personal_code.format} format`);
  return {
    givenName: single(attributes, mapping.given_name, 'given name'),
    familyName: single(attributes, mapping.family_name, 'family name'),
    personalCode: match[2]!,
    country: match[1] || mapping.personal_code.country,
  };
}

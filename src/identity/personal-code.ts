// Personal codes of the countries whose providers we accept: the Latvian code in its old format (birth date
// and check digit) and its new format (32..., no birth date), and the Estonian and Lithuanian isikukood.

export type Country = 'LV' | 'EE' | 'LT';
export const SUPPORTED_COUNTRIES: readonly Country[] = ['LV', 'EE', 'LT'];

export interface PersonalCode {
  country: Country;
  /** canonical national form: LV `DDMMYY-CNNNZ` (new format `32xxxx-xxxxx`), EE/LT 11 digits */
  code: string;
  /** ISO date of birth where the code carries one */
  birthdate?: string;
}

export class PersonalCodeError extends Error {
  override name = 'PersonalCodeError';
}

const LV_WEIGHTS = [1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

function isoDate(year: number, month: number, day: number): string | undefined {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${pad(month)}-${pad(day)}`;
}

function digits(s: string): number[] {
  return [...s].map(Number);
}

function parseLatvian(input: string): PersonalCode {
  const compact = input.replace(/^(\d{6})-(\d{5})$/, '$1$2');
  if (!/^\d{11}$/.test(compact)) throw new PersonalCodeError('Latvian personal code must be 11 digits (DDMMYY-CNNNZ)');
  const canonical = `${compact.slice(0, 6)}-${compact.slice(6)}`;
  const d = digits(compact);
  // New format (since 2017-07-01): 32..39, no birth date, no check digit to enforce.
  if (d[0] === 3 && d[1]! >= 2) return { country: 'LV', code: canonical };
  const century = d[6];
  if (century === undefined || century > 2)
    throw new PersonalCodeError('Latvian personal code has an invalid century digit');
  const year = 1800 + century * 100 + d[4]! * 10 + d[5]!;
  const birthdate = isoDate(year, d[2]! * 10 + d[3]!, d[0]! * 10 + d[1]!);
  if (!birthdate) throw new PersonalCodeError('Latvian personal code carries no valid date of birth');
  const sum = LV_WEIGHTS.reduce((acc, w, i) => acc + w * d[i]!, 0);
  const check = (1101 - sum) % 11;
  if (check === 10 || check !== d[10]) throw new PersonalCodeError('Latvian personal code check digit does not match');
  return { country: 'LV', code: canonical, birthdate };
}

/** Estonian isikukood; Lithuanian asmens kodas uses the same layout and check digit. */
function parseEeLt(input: string, country: 'EE' | 'LT'): PersonalCode {
  if (!/^\d{11}$/.test(input)) throw new PersonalCodeError(`${country} personal code must be 11 digits`);
  const d = digits(input);
  const g = d[0]!;
  if (g < 1 || g > 6) throw new PersonalCodeError(`${country} personal code has an invalid first digit`);
  const year = 1800 + Math.floor((g - 1) / 2) * 100 + d[1]! * 10 + d[2]!;
  const birthdate = isoDate(year, d[3]! * 10 + d[4]!, d[5]! * 10 + d[6]!);
  if (!birthdate) throw new PersonalCodeError(`${country} personal code carries no valid date of birth`);
  const weighted = (weights: number[]) => weights.reduce((acc, w, i) => acc + w * d[i]!, 0) % 11;
  let check = weighted([1, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
  if (check === 10) check = weighted([3, 4, 5, 6, 7, 8, 9, 1, 2, 3]);
  if (check === 10) check = 0;
  if (check !== d[10]) throw new PersonalCodeError(`${country} personal code check digit does not match`);
  return { country, code: input, birthdate };
}

export function isSupportedCountry(country: string): country is Country {
  return (SUPPORTED_COUNTRIES as readonly string[]).includes(country);
}

/** Validate and canonicalise a personal code of the given country; throws PersonalCodeError. */
export function parsePersonalCode(country: string, value: string): PersonalCode {
  const upper = country.trim().toUpperCase();
  if (!isSupportedCountry(upper))
    throw new PersonalCodeError(`personal codes of country ${JSON.stringify(country)} are not accepted`);
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > 20) throw new PersonalCodeError('personal code is empty or too long');
  return upper === 'LV' ? parseLatvian(trimmed) : parseEeLt(trimmed, upper);
}

/** ETSI EN 319 412-1 semantics identifier, e.g. `PNOLV-010180-15097`. */
export function semanticsIdentifier(pc: PersonalCode): string {
  return `PNO${pc.country}-${pc.code}`;
}

/** Parse `PNOLV-010180-15097` (also `PNOEE-...`). */
export function parseSemanticsIdentifier(value: string): PersonalCode {
  const match = /^PNO([A-Z]{2})-(.+)$/.exec(value.trim());
  if (!match) throw new PersonalCodeError('not an ETSI semantics identifier (PNOxx-...)');
  return parsePersonalCode(match[1]!, match[2]!);
}

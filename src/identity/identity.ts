// The one identity type every adapter's answer is normalised into.
import { isLoa, type Loa } from './loa.ts';
import {
  parsePersonalCode,
  PersonalCodeError,
  semanticsIdentifier,
  type Country,
  type PersonalCode,
} from './personal-code.ts';

/** What an adapter hands back after verifying a provider's answer (fields not yet validated). */
export interface RawIdentity {
  givenName?: string | undefined;
  familyName?: string | undefined;
  personalCode?: string | undefined;
  /** ISO alpha-2 country that issued the code; LV when the provider does not say */
  country?: string | undefined;
  loa: Loa;
  /** authentication method(s), e.g. ['smartid'], ['code_card'] */
  amr: string[];
  /** when the person authenticated at the provider (seconds since the epoch), checked against the login's window */
  authTime: number;
  /** provider-side extras kept for the audit trail only (never released to clients): the verification
   * entry's claims, encrypted to the auditor (not kept without an auditor key) */
  raw?: Record<string, unknown>;
}

export interface Identity {
  givenName: string;
  familyName: string;
  personalCode: string;
  country: Country;
  birthdate?: string;
  /** ETSI semantics identifier, the public `sub` */
  subject: string;
  loa: Loa;
  amr: string[];
  /** provider id */
  idp: string;
  /** the provider's authentication time (seconds), released as the ID token's auth_time */
  authTime: number;
}

export class IdentityError extends Error {
  override name = 'IdentityError';
}

const NAME_MAX = 200;
// unassigned code points (\p{Cn}, the non-characters among them), the Braille blank that displays as a space
// without being one, and the replacement characters a failed decoding leaves
const FORBIDDEN_IN_NAMES = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\p{Default_Ignorable_Code_Point}\u2800\uFFFC\uFFFD<>]/u;
/** after NFC a name's letters carry at most a few marks each; a stack of them paints over the neighbours */
const STACKED_MARKS = /\p{M}{4}/u;

function cleanName(value: string | undefined, what: string): string {
  const v = (value ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
  if (!v) throw new IdentityError(`provider answer lacks the ${what}`);
  if (v.length > NAME_MAX) throw new IdentityError(`${what} is too long`);
  // control characters, markup and invisible characters have no place in a name: a bidi override (U+202E),
  // a zero-width character, a variation selector, a combining grapheme joiner or a Hangul filler would make
  // a name display as another person's to the agency (Unicode's Default_Ignorable_Code_Point names those
  // that are not format characters)
  if (FORBIDDEN_IN_NAMES.test(v) || STACKED_MARKS.test(v))
    throw new IdentityError(`${what} contains forbidden characters`);
  // a name of punctuation or symbols alone would look blank or like no name at all
  if (!/\p{L}/u.test(v)) throw new IdentityError(`${what} has no letter`);
  return v;
}

/** Validate an adapter's answer; throws IdentityError with an operator-readable reason (no personal data). */
export function normalizeIdentity(raw: RawIdentity, idp: string): Identity {
  const givenName = cleanName(raw.givenName, 'given name');
  const familyName = cleanName(raw.familyName, 'family name');
  if (!raw.personalCode?.trim()) throw new IdentityError('provider answer lacks the personal code');
  if (!isLoa(raw.loa)) throw new IdentityError('provider answer has no valid level of assurance');
  // auth_time must say when the person really authenticated: the provider's own time where its answer
  // carries one (else when the provider first reported the authentication), never when the token is issued
  if (!Number.isSafeInteger(raw.authTime) || raw.authTime <= 0)
    throw new IdentityError('provider answer has no authentication time');
  let pc: PersonalCode;
  try {
    pc = parsePersonalCode(raw.country ?? 'LV', raw.personalCode);
  } catch (err) {
    if (err instanceof PersonalCodeError) throw new IdentityError(`invalid personal code: ${err.message}`);
    throw err;
  }
  return {
    givenName,
    familyName,
    personalCode: pc.code,
    country: pc.country,
    ...(pc.birthdate ? { birthdate: pc.birthdate } : {}),
    subject: semanticsIdentifier(pc),
    loa: raw.loa,
    amr: raw.amr.length ? raw.amr : ['unknown'],
    idp,
    authTime: raw.authTime,
  };
}

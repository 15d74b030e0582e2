// Turns verified upstream claims into our RawIdentity and level of assurance, as the provider's
// configuration declares. Pure functions: the adapter has already verified the token they come from.
import { ProviderError } from '../../src/broker/adapter.ts';
import type { RawIdentity } from '../../src/identity/identity.ts';
import { loaRank, loaSatisfies, type Loa } from '../../src/identity/loa.ts';
import type { OidcProviderConfig } from './config.ts';

type Claims = Record<string, unknown>;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Compile `PNO{country}-{code}` into an anchored regular expression with named groups. */
export function compilePattern(pattern: string): RegExp {
  const source = pattern
    .split(/(\{country\}|\{code\})/)
    .map((part) =>
      part === '{country}'
        ? '(?<country>[A-Z]{2})'
        : part === '{code}'
          ? '(?<code>[0-9A-Za-z-]{1,20})'
          : escapeRegExp(part),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

function stringClaim(claims: Claims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

/** Extract the identity; throws ProviderError('invalid_response') when a configured claim is absent or malformed. */
export function mapIdentity(
  claims: Claims,
  config: OidcProviderConfig['claims'],
  loa: Loa,
  amr: string[],
  authTime: number,
): RawIdentity {
  const pcConfig = config.personal_code;
  const rawCode = stringClaim(claims, pcConfig.claim);
  if (!rawCode?.trim()) throw new ProviderError('invalid_response', `personal code claim ${pcConfig.claim} is missing`);
  let personalCode = rawCode.trim();
  let country = pcConfig.country;
  if (pcConfig.pattern) {
    const match = compilePattern(pcConfig.pattern).exec(personalCode);
    if (!match?.groups?.code)
      throw new ProviderError(
        'invalid_response',
        `personal code claim ${pcConfig.claim} does not match the pattern ${pcConfig.pattern}`,
      );
    personalCode = match.groups.code;
    if (match.groups.country) country = match.groups.country as typeof country;
  }
  return {
    givenName: stringClaim(claims, config.given_name),
    familyName: stringClaim(claims, config.family_name),
    personalCode,
    country,
    loa,
    amr,
    authTime,
  };
}

export function amrOf(claims: Claims): string[] {
  const amr = claims.amr;
  return Array.isArray(amr) ? amr.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Our level for the upstream's acr/amr. An `acr` that is present but not mapped is refused (an unknown
 * level is no level); without an `acr`, the highest mapped `amr` counts. Never above the provider's level.
 */
export function mapLoa(claims: Claims, assurance: OidcProviderConfig['assurance'], providerLoa: Loa): Loa {
  let level: Loa | undefined;
  const acr = claims.acr;
  if (acr !== undefined) {
    if (typeof acr !== 'string' || !Object.hasOwn(assurance.acr, acr))
      throw new ProviderError('invalid_response', 'upstream acr is not mapped to a level of assurance');
    level = assurance.acr[acr];
  } else {
    for (const method of amrOf(claims)) {
      if (!Object.hasOwn(assurance.amr, method)) continue;
      const mapped = assurance.amr[method]!;
      if (!level || loaRank(mapped) > loaRank(level)) level = mapped;
    }
    if (!level) throw new ProviderError('invalid_response', 'upstream sent no acr and no mapped amr');
  }
  return loaRank(level!) > loaRank(providerLoa) ? providerLoa : level!;
}

/** The upstream acr values that satisfy a requested level, strongest first (for `acr_values`). */
export function acrValuesFor(
  requested: Loa | undefined,
  assurance: OidcProviderConfig['assurance'],
): string | undefined {
  if (!requested || !assurance.request_acr_values) return undefined;
  const values = Object.entries(assurance.acr)
    .filter(([, level]) => loaSatisfies(level, requested))
    .sort(([, a], [, b]) => loaRank(b) - loaRank(a))
    .map(([value]) => value);
  return values.length ? values.join(' ') : undefined;
}

// The identity a bank's verified 3013/3012 answer names: the person (personal code, name), the
// authentication method (VK_TOKEN) and the level of assurance it carries; or the user's cancel.
import { ProviderError } from '../../src/broker/adapter.ts';
import type { RawIdentity } from '../../src/identity/identity.ts';
import { parsePersonalCode, PersonalCodeError } from '../../src/identity/personal-code.ts';
import { loaRank, type Loa } from '../../src/identity/loa.ts';
import type { BanklinkConfig, TokenMethod } from './config.ts';
import { decodeName, splitName } from './names.ts';

const IDENTITY_FIELDS = ['VK_USER_ID', 'VK_USER_NAME', 'VK_COUNTRY', 'VK_TOKEN'] as const;

function lowerLoa(first: Loa, second: Loa): Loa {
  return loaRank(first) <= loaRank(second) ? first : second;
}

/** The VK_ fields of a callback, trimmed; nothing else takes part. */
export function vkFields(params: Record<string, unknown>): Record<string, string> {
  const answer: Record<string, string> = {};
  for (const [name, value] of Object.entries(params))
    if (name.startsWith('VK_') && typeof value === 'string') answer[name] = value.trim();
  return answer;
}

/**
 * The identity of an answer whose signature, parties, time and nonce are already checked. All identity
 * fields empty is the bank's cancel (`user_cancel`); anything else must name a known method, an accepted
 * country, a valid personal code and a name of the configured shape.
 */
export function identityFromAnswer(
  answer: Record<string, string>,
  config: BanklinkConfig,
  tokens: Record<string, TokenMethod>,
  authTime: number,
): RawIdentity {
  const refuse = (detail: string) => new ProviderError('invalid_response', detail);
  if (IDENTITY_FIELDS.every((field) => !answer[field]))
    throw new ProviderError('user_cancel', 'the user cancelled at the bank');

  const method = tokens[answer.VK_TOKEN ?? ''];
  if (!method) throw refuse(`VK_TOKEN ${JSON.stringify(answer.VK_TOKEN ?? '')} is not a known authentication method`);
  const country = answer.VK_COUNTRY ?? '';
  if (!(config.countries as string[]).includes(country))
    throw refuse(`VK_COUNTRY ${JSON.stringify(country)} is not accepted from this bank`);
  let personalCode: string;
  try {
    personalCode = parsePersonalCode(country, answer.VK_USER_ID ?? '').code;
  } catch (err) {
    if (err instanceof PersonalCodeError)
      throw refuse(`VK_USER_ID is not a valid ${country} personal code (${err.message})`);
    throw err;
  }
  const rawName = answer.VK_USER_NAME ?? '';
  const decoded = decodeName(rawName);
  if (decoded === undefined)
    throw refuse('VK_USER_NAME holds an HTML character reference that is not in the HTML5 table or is encoded twice');
  const name = splitName(decoded, config.name_format);
  if (!name) throw refuse(`VK_USER_NAME does not have the configured ${config.name_format} shape`);

  return {
    ...name,
    personalCode,
    country,
    loa: lowerLoa(method.loa, config.loa),
    amr: method.amr,
    authTime,
    raw: {
      userName: rawName,
      token: answer.VK_TOKEN,
      service: answer.VK_SERVICE,
      version: answer.VK_VERSION,
      other: answer.VK_OTHER ?? '',
    },
  };
}

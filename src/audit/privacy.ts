// Personal data never reaches the audit files in plain text: the subject is kept as a keyed HMAC (an
// operator holding the key can search by personal code, nobody else can test guesses), and released
// claims only as JWE to the auditor's public key.
import { createHmac } from 'node:crypto';
import { CompactEncrypt } from 'jose';
import type { AuditorKey } from './keys.ts';
import { parsePersonalCode, parseSemanticsIdentifier, semanticsIdentifier } from '../identity/personal-code.ts';

const SUB_PREFIX = 'hmac-sha256:';

export function hashSubject(key: string, subject: string): string {
  return SUB_PREFIX + createHmac('sha256', key).update(subject, 'utf8').digest('base64url');
}

/**
 * The subject an operator searches for: `PNOLV-010180-15097`, or a bare national code with its
 * country (`010180-15097`, `01018015097`). Canonicalised the way the identity layer does it, so
 * the hash matches what the gateway recorded. Throws PersonalCodeError on an invalid code.
 */
export function subjectFromInput(value: string, country = 'LV'): string {
  if (/^PNO[A-Z]{2}-/i.test(value.trim()))
    return semanticsIdentifier(parseSemanticsIdentifier(value.trim().toUpperCase()));
  return semanticsIdentifier(parsePersonalCode(country, value));
}

export async function encryptClaims(claims: Record<string, unknown>, auditor: AuditorKey): Promise<string> {
  return new CompactEncrypt(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader({ alg: auditor.alg, enc: 'A256GCM', kid: auditor.kid, cty: 'json' })
    .encrypt(auditor.key);
}

// VK_USER_NAME as banks send it: one of three name orders, sometimes with HTML entities.
import { DOMParser, MIME_TYPE } from '@xmldom/xmldom';

export type NameFormat = 'surname_comma_given' | 'given_space_surname' | 'surname_space_given';
export const NAME_FORMATS: readonly NameFormat[] = [
  'surname_comma_given',
  'given_space_surname',
  'surname_space_given',
];

/**
 * HTML character references undone in one pass, by xmldom's HTML parser: the whole HTML5 named table
 * (banks have sent `&Emacr;`, `&Scaron;`, `&otilde;`), decimal and hexadecimal references. A `<` is
 * escaped first so the value stays text; an unknown reference is left as it stands.
 */
export function decodeEntities(value: string): string {
  // line endings as sent: the parser would otherwise turn CR, NEL and U+2028/9 into LF
  const doc = new DOMParser({ onError: () => {}, normalizeLineEndings: (text) => text }).parseFromString(
    `<p>${value.replaceAll('<', '&lt;')}</p>`,
    MIME_TYPE.HTML,
  );
  return doc.documentElement?.textContent ?? '';
}

/** What still reads as a character reference after decoding: not in the table, or encoded twice. */
const REFERENCE_LEFT = /&(?:[a-z][a-z0-9]*|#[0-9]+|#x[0-9a-f]+);/i;

/**
 * VK_USER_NAME with its character references undone; undefined when one is left, since the name the
 * bank meant cannot then be known (and must not reach a token as literal `&...;` text).
 */
export function decodeName(raw: string): string | undefined {
  if (!numericReferencesValid(raw)) return undefined;
  const value = decodeEntities(raw);
  return REFERENCE_LEFT.test(value) ? undefined : value;
}

/** Whether every numeric reference names a Unicode scalar value: xmldom wraps one beyond U+10FFFF into
 * another, valid character (HTML gives U+FFFD), so such a name would pass as one the bank never sent. */
function numericReferencesValid(raw: string): boolean {
  for (const [, hex, dec] of raw.matchAll(/&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?/g)) {
    const cp = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
    if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  }
  return true;
}

/** Split a decoded VK_USER_NAME (decodeName) per the bank's convention; undefined when the value does not
 * have that shape. */
export function splitName(decoded: string, format: NameFormat): { givenName: string; familyName: string } | undefined {
  const value = decoded.replace(/\s+/g, ' ').trim();
  let given: string | undefined;
  let family: string | undefined;
  if (format === 'surname_comma_given') {
    const i = value.indexOf(',');
    if (i < 0) return undefined;
    family = value.slice(0, i);
    given = value.slice(i + 1);
  } else {
    // multi-part given names are more common than multi-part surnames in LV/EE, so the family name is
    // the last word (given_space_surname) or the first word (surname_space_given)
    const i = format === 'given_space_surname' ? value.lastIndexOf(' ') : value.indexOf(' ');
    if (i < 0) return undefined;
    [given, family] =
      format === 'given_space_surname'
        ? [value.slice(0, i), value.slice(i + 1)]
        : [value.slice(i + 1), value.slice(0, i)];
  }
  given = given.trim();
  family = family.trim();
  return given && family ? { givenName: given, familyName: family } : undefined;
}

/** The inverse, for the test bank. */
export function joinName(givenName: string, familyName: string, format: NameFormat): string {
  if (format === 'surname_comma_given') return `${familyName.toUpperCase()},${givenName.toUpperCase()}`;
  if (format === 'given_space_surname') return `${givenName} ${familyName}`;
  return `${familyName.toUpperCase()} ${givenName.toUpperCase()}`;
}

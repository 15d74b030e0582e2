// VK_USER_NAME as banks send it: one of three name orders, sometimes with HTML entities.

export type NameFormat = 'surname_comma_given' | 'given_space_surname' | 'surname_space_given';
export const NAME_FORMATS: readonly NameFormat[] = [
  'surname_comma_given',
  'given_space_surname',
  'surname_space_given',
];

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Banks have been seen to send HTML entities in VK_USER_NAME; undo the common ones. */
export function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** Split VK_USER_NAME per the bank's convention; undefined when the value does not have that shape. */
export function splitName(raw: string, format: NameFormat): { givenName: string; familyName: string } | undefined {
  const value = decodeEntities(raw).replace(/\s+/g, ' ').trim();
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

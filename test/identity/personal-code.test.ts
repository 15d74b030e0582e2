import {
  parsePersonalCode,
  parseSemanticsIdentifier,
  semanticsIdentifier,
  PersonalCodeError,
} from '../../src/identity/personal-code.ts';
import { normalizeIdentity, IdentityError } from '../../src/identity/identity.ts';
import { loaSatisfies, parseLoa } from '../../src/identity/loa.ts';

describe('Latvian personal codes', () => {
  test.each(['161175-19997', '010190-12349', '290288-12342', '010180-15097', '010101-10006'])(
    'valid old format %s',
    (code) => {
      expect(parsePersonalCode('LV', code).code).toBe(code);
      expect(parsePersonalCode('lv', code.replace('-', '')).code).toBe(code);
    },
  );

  test('birth date from the old format, with the century digit', () => {
    expect(parsePersonalCode('LV', '161175-19997').birthdate).toBe('1975-11-16');
    expect(parsePersonalCode('LV', '010101-10006').birthdate).toBe('1901-01-01');
  });

  test.each([
    ['123456-12345', /check digit|date/],
    ['010180-15098', /check digit/],
    ['310299-12345', /date/],
    ['01018015097x', /11 digits/],
    ['', /empty/],
    ['010180-35097', /century/],
  ])('invalid %s', (code, reason) => {
    expect(() => parsePersonalCode('LV', code)).toThrow(reason);
  });

  test('new format (32...) is accepted without a check digit and without a birth date', () => {
    const pc = parsePersonalCode('LV', '32503511782');
    expect(pc).toEqual({ country: 'LV', code: '325035-11782' });
    expect(parsePersonalCode('LV', '325035-11782').code).toBe('325035-11782');
  });

  test('semantics identifiers round trip', () => {
    expect(semanticsIdentifier(parsePersonalCode('LV', '01018015097'))).toBe('PNOLV-010180-15097');
    expect(parseSemanticsIdentifier('PNOLV-010180-15097').code).toBe('010180-15097');
    expect(parseSemanticsIdentifier('PNOEE-60001019906').country).toBe('EE');
    expect(() => parseSemanticsIdentifier('IDCLV-010180-15097')).toThrow(PersonalCodeError);
  });
});

describe('Estonian and Lithuanian codes', () => {
  test.each(['37602294565', '38001085718', '60001019906'])('valid EE %s', (code) => {
    expect(parsePersonalCode('EE', code).code).toBe(code);
  });
  // when the first weights give 10 the second set decides, and when those give 10 too the check digit is 0
  test.each(['38001080079', '38001081350'])('valid EE %s, checked with the second weights', (code) => {
    expect(parsePersonalCode('EE', code).birthdate).toBe('1980-01-08');
  });
  // a first digit beyond 6 names no century in use (7 would be born in the 2100s), whatever its check digit
  test('a first digit of 7, with a matching check digit, is refused', () => {
    expect(() => parsePersonalCode('EE', '70001010008')).toThrow(/invalid first digit/);
  });
  test('LT uses the same rule', () => {
    expect(parsePersonalCode('LT', '38001085718').birthdate).toBe('1980-01-08');
  });
  test.each(['37602294566', '99999999999', '3760229456', '60013019906'])('invalid EE %s', (code) => {
    expect(() => parsePersonalCode('EE', code)).toThrow(PersonalCodeError);
  });
  test('unsupported countries are refused', () => {
    expect(() => parsePersonalCode('FI', '010180-123A')).toThrow(/not accepted/);
  });
});

describe('normalisation', () => {
  const raw = {
    givenName: ' Jānis ',
    familyName: 'Bērziņš',
    personalCode: '01018015097',
    loa: 'high' as const,
    amr: ['smart_id'],
    authTime: 1_700_000_000,
  };

  test('separate, trimmed fields with canonical code and semantics subject', () => {
    expect(normalizeIdentity(raw, 'bank-a')).toEqual({
      givenName: 'Jānis',
      familyName: 'Bērziņš',
      personalCode: '010180-15097',
      country: 'LV',
      birthdate: '1980-01-01',
      subject: 'PNOLV-010180-15097',
      loa: 'high',
      amr: ['smart_id'],
      idp: 'bank-a',
      authTime: 1_700_000_000,
    });
  });

  test.each([
    [{ givenName: '' }, /given name/],
    [{ familyName: undefined }, /family name/],
    [{ personalCode: undefined }, /personal code/],
    [{ personalCode: '123456-12345' }, /invalid personal code/],
    [{ givenName: 'A<script>' }, /forbidden/],
    [{ givenName: 'J\u0007nis' }, /forbidden/],
    // Unicode format characters: a right-to-left override, a zero-width space and joiner, a soft hyphen
    [{ familyName: 'Bērz\u202Eņš' }, /forbidden/],
    [{ familyName: 'Bērz\u2066iņš\u2069' }, /forbidden/],
    [{ givenName: 'Jā\u200Bnis' }, /forbidden/],
    [{ givenName: 'Jā\u200Dnis' }, /forbidden/],
    [{ givenName: 'Jā\u00ADnis' }, /forbidden/],
    [{ givenName: 'Jā\uE000nis' }, /forbidden/],
    // blank-looking, unassigned or piled up: a Braille blank, a non-character, an unassigned code point,
    // four combining marks on one letter, and names with no letter at all
    [{ givenName: 'Jānis\u2800' }, /forbidden/],
    [{ givenName: 'Jānis\uFDD0' }, /forbidden/],
    [{ givenName: 'Jā\u0378nis' }, /forbidden/],
    [{ familyName: 'Bērziņš\u0301\u0302\u0303\u0304' }, /forbidden/],
    [{ givenName: "-'." }, /given name has no letter/],
    [{ familyName: '1 2' }, /family name has no letter/],
    [{ familyName: 'x'.repeat(201) }, /too long/],
    [{ loa: 'medium' }, /level of assurance/],
    // the provider's authentication time is what auth_time says; without one there is nothing to say
    [{ authTime: undefined }, /authentication time/],
    [{ authTime: 1.5e9 + 0.5 }, /authentication time/],
  ])('refused: %j', (patch, reason) => {
    expect(() => normalizeIdentity({ ...raw, ...(patch as object) } as never, 'bank-a')).toThrow(reason);
    expect(() => normalizeIdentity({ ...raw, ...(patch as object) } as never, 'bank-a')).toThrow(IdentityError);
  });

  test.each([
    ["Anna-Marija O'Konnora", "Anna-Marija O'Konnora"],
    ['Ivanova Анна', 'Ivanova Анна'],
    // decomposed letters come out composed (NFC); a letter with three marks left after NFC is still a name
    ['Be\u0304rzin\u0327s\u030C', 'Bērziņš'],
    ['Q\u0301\u0302\u0303', 'Q\u0301\u0302\u0303'],
  ])('accepted: %j', (familyName, expected) => {
    expect(normalizeIdentity({ ...raw, familyName }, 'bank-a').familyName).toBe(expected);
  });

  test('an error never carries the personal code', () => {
    const err = (() => {
      try {
        normalizeIdentity({ ...raw, personalCode: '123456-12345' }, 'x');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as Error).message).toMatch(/^invalid personal code: /);
    expect((err as Error).message).not.toMatch(/123456|12345/);
  });
});

test('levels of assurance are ordered', () => {
  expect(loaSatisfies('high', 'substantial')).toBe(true);
  expect(loaSatisfies('low', 'substantial')).toBe(false);
  expect(loaSatisfies('low', undefined)).toBe(true);
  expect(parseLoa('http://eidas.europa.eu/LoA/substantial')).toBe('substantial');
  expect(parseLoa('medium')).toBeUndefined();
});

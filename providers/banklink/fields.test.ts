// Known-answer tests for banklink field values: VK_DATETIME's strict form, the reference maximum field
// lengths (in characters), and VK_USER_NAME split per bank convention with its HTML entities undone.
import { formatDatetime, parseDatetime } from './datetime.ts';
import { decodeEntities, decodeName, joinName, splitName } from './names.ts';
import { overlongField } from './protocol.ts';

describe('VK_DATETIME', () => {
  test('formats yyyy-MM-ddTHH:mm:ss+hhmm in a given offset', () => {
    const t = new Date('2024-05-01T09:00:00Z');
    expect(formatDatetime(t, 180)).toBe('2024-05-01T12:00:00+0300');
    expect(formatDatetime(t, 0)).toBe('2024-05-01T09:00:00+0000');
    expect(formatDatetime(t, -330)).toBe('2024-05-01T03:30:00-0530');
  });

  test('parses only the strict form', () => {
    expect(parseDatetime('2024-05-01T12:00:00+0300')?.toISOString()).toBe('2024-05-01T09:00:00.000Z');
    expect(parseDatetime('2024-05-01T12:00:00-0130')?.toISOString()).toBe('2024-05-01T13:30:00.000Z');
    for (const bad of [
      '2024-05-01T12:00:00+03:00',
      '2024-05-01T12:00:00Z',
      '2024-05-01 12:00:00+0300',
      '2024-02-30T12:00:00+0300',
      '2024-05-01T24:00:00+0300',
      '2024-05-01T12:00:00+1500',
      '',
    ]) {
      expect(parseDatetime(bad)).toBeUndefined();
    }
  });
});

describe('field limits and names', () => {
  test('reference maximum lengths', () => {
    expect(overlongField({ VK_RID: 'x'.repeat(30), VK_NONCE: 'n'.repeat(50) })).toBeUndefined();
    expect(overlongField({ VK_RID: 'x'.repeat(31) })).toBe('VK_RID');
    expect(overlongField({ VK_USER_ID: '1'.repeat(21) })).toBe('VK_USER_ID');
    expect(overlongField({ VK_USER_NAME: 'õ'.repeat(140) })).toBeUndefined();
    // characters, not UTF-16 units: 30 astral characters are 60 units and still within VK_RID's 30
    expect(overlongField({ VK_RID: '\u{1F3E6}'.repeat(30) })).toBeUndefined();
    expect(overlongField({ VK_RID: '\u{1F3E6}'.repeat(31) })).toBe('VK_RID');
  });

  test('VK_USER_NAME split per bank convention, HTML entities undone', () => {
    expect(splitName('BĒRZIŅŠ,JĀNIS', 'surname_comma_given')).toEqual({ givenName: 'JĀNIS', familyName: 'BĒRZIŅŠ' });
    expect(splitName('Anna Marija Kalniņa', 'given_space_surname')).toEqual({
      givenName: 'Anna Marija',
      familyName: 'Kalniņa',
    });
    expect(splitName('TÕÕGER LEÕPÄÖLD', 'surname_space_given')).toEqual({
      givenName: 'LEÕPÄÖLD',
      familyName: 'TÕÕGER',
    });
    expect(splitName(decodeName('O&#39;BRIEN,SEAN')!, 'surname_comma_given')).toEqual({
      givenName: 'SEAN',
      familyName: "O'BRIEN",
    });
    expect(splitName('Jānis', 'given_space_surname')).toBeUndefined();
    expect(splitName('BĒRZIŅŠ,', 'surname_comma_given')).toBeUndefined();
    expect(decodeEntities('a &amp; b &#x101; &bogus;')).toBe('a & b ā &bogus;');
    expect(decodeEntities('a\r\nb&#13;\u2028')).toBe('a\r\nb\r\u2028');
    expect(joinName('Leõpäöld', 'Tõõger', 'surname_comma_given')).toBe('TÕÕGER,LEÕPÄÖLD');
  });

  test('VK_USER_NAME: every HTML5 named reference undone; one left over refuses the name', () => {
    // the letters of Latvian, Lithuanian and Estonian names as banks have sent them
    expect(decodeName('B&Emacr;RZI&Ncedil;&Scaron;,J&Amacr;NIS')).toBe('BĒRZIŅŠ,JĀNIS');
    expect(
      decodeName(
        '&Kcedil;&Lcedil;&Gcedil;&Imacr;&Umacr;&Zcaron;&Ccaron; &kcedil;&lcedil;&imacr;&umacr;&zcaron;&ccaron;',
      ),
    ).toBe('ĶĻĢĪŪŽČ ķļīūžč');
    expect(decodeName('&Aogon;&Eogon;&Iogon;&Uogon;&Edot; &aogon;&eogon;&iogon;&uogon;&edot;')).toBe('ĄĘĮŲĖ ąęįųė');
    expect(decodeName('T&otilde;&otilde;ger,M&auml;rt &Ouml;&Uuml;&uuml;&ouml;')).toBe('Tõõger,Märt ÖÜüö');
    // markup stays text, a bare ampersand stays itself
    expect(decodeName('A < B & C')).toBe('A < B & C');
    expect(decodeName('&lt;b&gt;')).toBe('<b>');
    // not in the table, or encoded twice: the bank's meaning cannot be known
    expect(decodeName('B&Emacrx;RZINS,JANIS')).toBeUndefined();
    expect(decodeName('B&amp;Emacr;RZINS,JANIS')).toBeUndefined();
    expect(decodeName('J&amp;#257;NIS')).toBeUndefined();
    // HTML5 has no &gcedil; (ģ is &#291;): refused, not guessed
    expect(decodeName('&gcedil;IRTS')).toBeUndefined();
    expect(decodeName('&#291;IRTS')).toBe('ģIRTS');
    // a numeric reference that names no character (beyond U+10FFFF, a surrogate, zero) is refused, not
    // wrapped into another character by the parser
    for (const ref of ['&#x4010041;', `&#${'9'.repeat(400)};`, '&#xD800;', '&#0;', '&#x110000;'])
      expect(decodeName(`B${ref}RZINS,JANIS`)).toBeUndefined();
    expect(decodeName('&#x10FFFF;')).toBe('\u{10FFFF}');
  });
});

// Known-answer tests for the banklink MAC string, encodings, signatures and VK_DATETIME. Signatures are
// cross-checked against the openssl CLI.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDatetime, parseDatetime } from './datetime.ts';
import { decodeEntities, decodeName, joinName, splitName } from './names.ts';
import {
  decodeBase64,
  encodeText,
  fieldLength,
  macString,
  overlongField,
  ProtocolError,
  signMac,
  verifyMac,
} from './protocol.ts';

const REFERENCE_4012 = {
  VK_SERVICE: '4012',
  VK_VERSION: '008',
  VK_SND_ID: 'MYSHOP',
  VK_REC_ID: 'HP',
  VK_NONCE: 'a1b2c3d4e5f6',
  VK_RETURN: 'https://shop.example/ret',
  VK_DATETIME: '2024-05-01T12:00:00+0300',
  VK_RID: '',
};

const ANSWER_3013 = {
  VK_SERVICE: '3013',
  VK_VERSION: '009',
  VK_DATETIME: '2024-05-01T12:00:05+0300',
  VK_SND_ID: 'HP',
  VK_REC_ID: 'MYSHOP',
  VK_NONCE: 'a1b2c3d4e5f6',
  VK_USER_NAME: 'Tõõger Leõpäöld',
  VK_USER_ID: '37602294565',
  VK_COUNTRY: 'EE',
  VK_OTHER: '',
  VK_TOKEN: '5',
  VK_RID: 'r1',
};

describe('MAC string', () => {
  test('the reference example 4012 string, byte for byte', () => {
    expect(macString(REFERENCE_4012)).toBe(
      '0044012003008006MYSHOP002HP012a1b2c3d4e5f6024https://shop.example/ret0242024-05-01T12:00:00+0300000',
    );
  });

  test('extra and non-MAC fields (VK_MAC, VK_ENCODING, VK_LANG, VK_AUTO) do not change it', () => {
    expect(
      macString({ ...REFERENCE_4012, VK_MAC: 'x', VK_ENCODING: 'UTF-8', VK_LANG: 'LAT', VK_AUTO: 'Y', OTHER: 'z' }),
    ).toBe(macString(REFERENCE_4012));
  });

  test('3013 field order, and a non-ASCII name counted in characters (15), not UTF-8 bytes (20)', () => {
    expect(fieldLength('Tõõger Leõpäöld')).toBe(15);
    expect(encodeText('Tõõger Leõpäöld', 'UTF-8').length).toBe(20);
    expect(macString(ANSWER_3013)).toBe(
      '0043013003009024' +
        '2024-05-01T12:00:05+0300' +
        '002HP006MYSHOP012a1b2c3d4e5f6' +
        '015Tõõger Leõpäöld' +
        '01137602294565002EE000' +
        '0015' +
        '002r1',
    );
  });

  test('byte-length quirk counts encoded bytes in the bank encoding', () => {
    expect(macString(ANSWER_3013, { lengthMode: 'bytes', encoding: 'UTF-8' })).toContain('020Tõõger Leõpäöld');
    expect(macString(ANSWER_3013, { lengthMode: 'bytes', encoding: 'WINDOWS-1257' })).toContain('015Tõõger Leõpäöld');
  });

  test('4011 and 3012 field order', () => {
    expect(
      macString({
        VK_SERVICE: '4011',
        VK_VERSION: '008',
        VK_SND_ID: 'GW',
        VK_REPLY: '3012',
        VK_RETURN: 'https://g/c',
        VK_DATETIME: '2024-05-01T12:00:00+0300',
        VK_RID: 'abc',
      }),
    ).toBe('0044011003008002GW0043012011https://g/c0242024-05-01T12:00:00+0300003abc');
    expect(
      macString({
        VK_SERVICE: '3012',
        VK_VERSION: '008',
        VK_USER: 'U1',
        VK_DATETIME: 'D',
        VK_SND_ID: 'B',
        VK_REC_ID: 'GW',
        VK_USER_NAME: 'N',
        VK_USER_ID: 'I',
        VK_COUNTRY: 'LV',
        VK_OTHER: '',
        VK_TOKEN: '7',
        VK_RID: 'abc',
      }),
    ).toBe('0043012003008002U1001D001B002GW001N001I002LV0000017003abc');
  });

  test('a missing MAC field or an unknown service is an error, not an empty field', () => {
    const { VK_NONCE: _omitted, ...withoutNonce } = REFERENCE_4012;
    expect(() => macString(withoutNonce)).toThrow(new ProtocolError('VK_NONCE is missing'));
    expect(() => macString({ ...REFERENCE_4012, VK_SERVICE: '1011' })).toThrow(ProtocolError);
  });
});

describe('encodings', () => {
  test('WINDOWS-1257 and ISO-8859-1 bytes match iconv', () => {
    expect(encodeText('Tõõger Leõpäöld āčēģīķļņšūž', 'WINDOWS-1257').toString('hex')).toBe(
      '54f5f5676572204c65f570e4f66c6420e2e8e7eceeedeff2f0fbfe',
    );
    expect(encodeText('Tõõger Leõpäöld', 'ISO-8859-1').toString('hex')).toBe('54f5f5676572204c65f570e4f66c64');
  });

  test('a character the encoding cannot hold is refused, never silently replaced', () => {
    expect(() => encodeText('Bērziņš', 'ISO-8859-1')).toThrow(ProtocolError);
    expect(() => encodeText('日本', 'WINDOWS-1257')).toThrow(ProtocolError);
    expect(() => encodeText('\uD800', 'UTF-8')).toThrow(ProtocolError);
  });
});

describe('signatures (RSA PKCS#1 v1.5)', () => {
  let dir: string;
  let privateKey: KeyObject;
  let publicKey: KeyObject;
  let keyFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'banklink-kat-'));
    ({ privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
    keyFile = join(dir, 'key.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const opensslSign = (data: Buffer, hash: 'sha512' | 'sha1') => {
    const file = join(dir, 'data.bin');
    writeFileSync(file, data);
    return execFileSync('openssl', ['dgst', `-${hash}`, '-sign', keyFile, file]).toString('base64');
  };

  test.each([
    ['sha512', 'UTF-8'],
    ['sha1', 'UTF-8'],
    ['sha512', 'WINDOWS-1257'],
    ['sha1', 'ISO-8859-1'],
  ] as const)('%s over %s bytes equals openssl dgst -sign, and verifies both ways', (hash, encoding) => {
    const mac = macString(ANSWER_3013, { encoding });
    const ours = signMac(mac, privateKey, hash, encoding);
    expect(ours).toBe(opensslSign(encodeText(mac, encoding), hash));
    expect(verifyMac(mac, ours, publicKey, hash, encoding)).toBe(true);
  });

  test('base64 with line breaks is accepted; any change to the string or the hash is not', () => {
    const mac = macString(ANSWER_3013);
    const sig = signMac(mac, privateKey, 'sha512');
    expect(verifyMac(mac, sig.replace(/.{64}/g, '$&\r\n'), publicKey, 'sha512')).toBe(true);
    expect(verifyMac(mac, sig.replace(/.{76}/g, '$&\n'), publicKey, 'sha512')).toBe(true);
    expect(verifyMac(mac.replace('Tõõger', 'Tooger'), sig, publicKey, 'sha512')).toBe(false);
    expect(verifyMac(mac, sig, publicKey, 'sha1')).toBe(false);
    expect(
      verifyMac(
        mac,
        sig,
        createPublicKey(
          generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }),
        ),
        'sha512',
      ),
    ).toBe(false);
    expect(verifyMac(mac, 'not base64!', publicKey, 'sha512')).toBe(false);
    expect(verifyMac(mac, '', publicKey, 'sha512')).toBe(false);
    expect(decodeBase64('QUJD\nREVG')?.toString()).toBe('ABCDEF');
    expect(decodeBase64('QUJ')).toBeUndefined();
  });
});

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

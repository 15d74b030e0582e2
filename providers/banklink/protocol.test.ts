// Known-answer tests for the banklink MAC string, encodings and signatures. Signatures are cross-checked
// against the openssl CLI. Field values (VK_DATETIME, lengths, VK_USER_NAME) are in ./fields.test.ts.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBase64, encodeText, fieldLength, macString, ProtocolError, signMac, verifyMac } from './protocol.ts';

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

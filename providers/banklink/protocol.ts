// The iPizza banklink protocol as the Baltic banks specify it: MAC field order per service, the
// length-prefixed MAC string, text encodings, RSA PKCS#1 v1.5 signatures and field lengths (VK_DATETIME
// is in datetime.ts, VK_USER_NAME shapes in names.ts). Pure functions only; the adapter (./adapter.ts)
// and the test bank (./test-bank/) both build on this.
import { sign as rsaSign, verify as rsaVerify, type KeyObject } from 'node:crypto';

export type Service = '4011' | '4012' | '3012' | '3013';
export type Version = '008' | '009';
export type Hash = 'sha1' | 'sha512';
export type Encoding = 'UTF-8' | 'ISO-8859-1' | 'WINDOWS-1257';
export const ENCODINGS: readonly Encoding[] = ['UTF-8', 'ISO-8859-1', 'WINDOWS-1257'];
/** How the three-digit length prefix counts: characters (the default everywhere) or encoded bytes (a bank quirk). */
export type LengthMode = 'characters' | 'bytes';

/** Both answers end with the person and the request they answer, in this order. */
const ANSWER_IDENTITY_FIELDS = ['VK_USER_NAME', 'VK_USER_ID', 'VK_COUNTRY', 'VK_OTHER', 'VK_TOKEN', 'VK_RID'] as const;

/** MAC fields, in signing order, per service. */
export const MAC_FIELDS: Record<Service, readonly string[]> = {
  '4012': ['VK_SERVICE', 'VK_VERSION', 'VK_SND_ID', 'VK_REC_ID', 'VK_NONCE', 'VK_RETURN', 'VK_DATETIME', 'VK_RID'],
  '3013': ['VK_SERVICE', 'VK_VERSION', 'VK_DATETIME', 'VK_SND_ID', 'VK_REC_ID', 'VK_NONCE', ...ANSWER_IDENTITY_FIELDS],
  '4011': ['VK_SERVICE', 'VK_VERSION', 'VK_SND_ID', 'VK_REPLY', 'VK_RETURN', 'VK_DATETIME', 'VK_RID'],
  '3012': ['VK_SERVICE', 'VK_VERSION', 'VK_USER', 'VK_DATETIME', 'VK_SND_ID', 'VK_REC_ID', ...ANSWER_IDENTITY_FIELDS],
};

/** The answer each request service expects. */
export const REPLY_TO: Record<'4011' | '4012', '3012' | '3013'> = { '4011': '3012', '4012': '3013' };

/** Maximum lengths (characters) from the reference; fields not listed are not limited by it. */
export const MAX_LENGTH: Record<string, number> = {
  VK_SERVICE: 4,
  VK_VERSION: 3,
  VK_SND_ID: 15,
  VK_REC_ID: 15,
  VK_NONCE: 50,
  VK_RETURN: 255,
  VK_DATETIME: 24,
  VK_RID: 30,
  VK_USER_NAME: 140,
  VK_USER_ID: 20,
  VK_COUNTRY: 2,
  VK_OTHER: 150,
  VK_TOKEN: 2,
  VK_MAC: 700,
  VK_REPLY: 4,
  VK_USER: 16,
  VK_ENCODING: 12,
  VK_LANG: 3,
};

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

export function isService(value: unknown): value is Service {
  return typeof value === 'string' && Object.hasOwn(MAC_FIELDS, value);
}

export function isEncoding(value: unknown): value is Encoding {
  return typeof value === 'string' && (ENCODINGS as readonly string[]).includes(value.toUpperCase());
}

// windows-1257 has no encoder in Node; the reverse of the platform's own decoder is exact by construction.
let win1257: Map<number, number> | undefined;
function windows1257Table(): Map<number, number> {
  if (win1257) return win1257;
  const decoder = new TextDecoder('windows-1257');
  const table = new Map<number, number>();
  for (let byte = 0; byte < 256; byte += 1) {
    const ch = decoder.decode(Uint8Array.of(byte));
    if (ch !== '\uFFFD') table.set(ch.codePointAt(0)!, byte);
  }
  win1257 = table;
  return table;
}

/** Encode text for signing; throws ProtocolError for a character the encoding cannot represent. */
export function encodeText(text: string, encoding: Encoding): Buffer {
  switch (encoding.toUpperCase() as Encoding) {
    case 'UTF-8':
      if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
        throw new ProtocolError('text is not well-formed Unicode');
      return Buffer.from(text, 'utf8');
    case 'ISO-8859-1': {
      for (const ch of text)
        if (ch.codePointAt(0)! > 0xff) throw new ProtocolError('text has a character ISO-8859-1 cannot represent');
      return Buffer.from(text, 'latin1');
    }
    case 'WINDOWS-1257': {
      const table = windows1257Table();
      const out: number[] = [];
      for (const ch of text) {
        const byte = table.get(ch.codePointAt(0)!);
        if (byte === undefined) throw new ProtocolError('text has a character WINDOWS-1257 cannot represent');
        out.push(byte);
      }
      return Buffer.from(out);
    }
    default:
      throw new ProtocolError(`unsupported encoding ${JSON.stringify(encoding)}`);
  }
}

/** Length in characters (Unicode code points, like PHP's mb_strlen) or in encoded bytes. */
export function fieldLength(value: string, mode: LengthMode = 'characters', encoding: Encoding = 'UTF-8'): number {
  return mode === 'bytes' ? encodeText(value, encoding).length : [...value].length;
}

/**
 * The string the MAC signs: for each MAC field of the service, in order, its length as three digits and
 * the value. An absent field is an error (every MAC field must be sent, possibly empty).
 */
export function macString(
  fields: Record<string, string | undefined>,
  options: { lengthMode?: LengthMode; encoding?: Encoding } = {},
): string {
  const service = fields.VK_SERVICE;
  if (!isService(service)) throw new ProtocolError('VK_SERVICE is missing or not a banklink authentication service');
  let out = '';
  for (const name of MAC_FIELDS[service]) {
    const value = fields[name];
    if (value === undefined) throw new ProtocolError(`${name} is missing`);
    const length = fieldLength(value, options.lengthMode, options.encoding);
    if (length > 999) throw new ProtocolError(`${name} is too long`);
    out += String(length).padStart(3, '0') + value;
  }
  return out;
}

export function hashFor(version: Version, legacySha1: boolean): Hash {
  return version === '008' || legacySha1 ? 'sha1' : 'sha512';
}

/** RSA PKCS#1 v1.5 signature of the encoded MAC string, base64. */
export function signMac(mac: string, key: KeyObject, hash: Hash, encoding: Encoding = 'UTF-8'): string {
  return rsaSign(hash, encodeText(mac, encoding), key).toString('base64');
}

/** Standard base64, with any line breaks or blanks some banks insert removed; undefined if not base64. */
export function decodeBase64(value: string): Buffer | undefined {
  const compact = value.replace(/[\r\n\t ]+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

/** True only for a valid RSA PKCS#1 v1.5 signature over the encoded MAC string. */
export function verifyMac(
  mac: string,
  signatureB64: string,
  key: KeyObject,
  hash: Hash,
  encoding: Encoding = 'UTF-8',
): boolean {
  const signature = decodeBase64(signatureB64);
  if (!signature) return false;
  let data: Buffer;
  try {
    data = encodeText(mac, encoding);
  } catch {
    return false;
  }
  try {
    return rsaVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/** The first field whose value exceeds the reference's maximum length, if any. */
export function overlongField(fields: Record<string, string | undefined>): string | undefined {
  for (const [name, value] of Object.entries(fields)) {
    const max = MAX_LENGTH[name];
    // lengths are in characters (code points): never more than UTF-16 units, so only a value longer in units
    // than the maximum needs counting
    if (max !== undefined && value !== undefined && value.length > max && [...value].length > max) return name;
  }
  return undefined;
}

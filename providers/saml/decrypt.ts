// EncryptedAssertion -> Assertion with xml-encryption, after an algorithm allow-list check: AES-GCM for
// the content (CBC is open to padding-oracle attacks) and RSA-OAEP for the key transport.
import xmlenc from 'xml-encryption';
import type { Element } from '@xmldom/xmldom';
import { NS, XmlError, descendants, requiredAttr, serialize } from './xml.ts';

export const ALLOWED_CONTENT_ENCRYPTION = [
  'http://www.w3.org/2009/xmlenc11#aes128-gcm',
  'http://www.w3.org/2009/xmlenc11#aes256-gcm',
] as const;
export const ALLOWED_KEY_TRANSPORT = [
  'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
  'http://www.w3.org/2009/xmlenc11#rsa-oaep',
] as const;

export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

function checkAlgorithms(encryptedAssertion: Element): void {
  const data = descendants(encryptedAssertion, NS.xenc, 'EncryptedData');
  if (data.length !== 1)
    throw new DecryptionError(`EncryptedAssertion must hold one EncryptedData, holds ${data.length}`);
  const methods = descendants(data[0]!, NS.xenc, 'EncryptionMethod').filter((m) => m.parentNode === data[0]);
  if (methods.length !== 1) throw new DecryptionError('EncryptedData must name one EncryptionMethod');
  const content = requiredAttr(methods[0]!, 'Algorithm');
  if (!(ALLOWED_CONTENT_ENCRYPTION as readonly string[]).includes(content))
    throw new DecryptionError(`content encryption ${content} is not allowed`);
  const keys = descendants(encryptedAssertion, NS.xenc, 'EncryptedKey');
  if (keys.length !== 1)
    throw new DecryptionError(`EncryptedAssertion must hold one EncryptedKey, holds ${keys.length}`);
  const keyMethods = descendants(keys[0]!, NS.xenc, 'EncryptionMethod');
  if (keyMethods.length !== 1) throw new DecryptionError('EncryptedKey must name one EncryptionMethod');
  const transport = requiredAttr(keyMethods[0]!, 'Algorithm');
  if (!(ALLOWED_KEY_TRANSPORT as readonly string[]).includes(transport))
    throw new DecryptionError(`key transport ${transport} is not allowed`);
}

function decryptWith(xml: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.decrypt(
      xml,
      { key, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false },
      (err, result) => {
        if (err || typeof result !== 'string') reject(err ?? new Error('empty decryption result'));
        else resolve(result);
      },
    );
  });
}

/** Decrypt with any of the SP's encryption keys (several during a key rollover). Returns assertion XML. */
export async function decryptAssertion(encryptedAssertion: Element, keys: readonly string[]): Promise<string> {
  try {
    checkAlgorithms(encryptedAssertion);
  } catch (err) {
    if (err instanceof XmlError) throw new DecryptionError(err.message);
    throw err;
  }
  const xml = serialize(encryptedAssertion);
  for (const key of keys) {
    try {
      return await decryptWith(xml, key);
    } catch {
      // try the next key; the reason (wrong key, corrupted ciphertext) must not become an oracle
    }
  }
  throw new DecryptionError('assertion cannot be decrypted with the SP encryption key');
}

// The engine's signed cookies (Koa's `cookies` module), signed and checked with the interface of Keygrip.
// Koa wraps an array of keys in a new Keygrip on every request; Keygrip hands the raw secret to an HMAC
// each time and compares digests through two more HMACs (tsscmp). Here each secret becomes a KeyObject
// once and digests are compared with timingSafeEqual: the same HMAC-SHA1, base64url, so cookies signed
// either way verify either way (instances of two versions may share a login).
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

export class CookieSigner {
  private readonly keys: KeyObject[];

  /** `secrets`: the first signs, every one verifies (a rotation's older keys after it). */
  constructor(secrets: readonly string[]) {
    if (!secrets.length) throw new Error('cookie keys must be provided');
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(secret, 'utf8')));
  }

  sign(data: string): string {
    return digest(this.keys[0]!, data);
  }

  verify(data: string, signature: string): boolean {
    return this.index(data, signature) > -1;
  }

  /** Which key made `signature` over `data` (Cookies re-signs with the first when it was another); -1 for none. */
  index(data: string, signature: string): number {
    const given = Buffer.from(signature);
    for (let i = 0; i < this.keys.length; i += 1) {
      const expected = Buffer.from(digest(this.keys[i]!, data));
      // an HMAC-SHA1 digest has one length: a different one is no signature of ours, whatever the key
      if (expected.length === given.length && timingSafeEqual(expected, given)) return i;
    }
    return -1;
  }
}

const digest = (key: KeyObject, data: string): string => createHmac('sha1', key).update(data).digest('base64url');

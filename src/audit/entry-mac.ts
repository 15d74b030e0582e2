// Per-entry MAC: the checkpoint signature authenticates every entry up to the latest checkpoint (through
// the RFC 9162 root), but entries written since are otherwise protected by nothing more than their leaf
// hash, which anyone who can write the directory can compute. Each entry therefore carries
// `"mac":"<hex>"` as its last member: HMAC-SHA256 under a key kept beside the checkpoint key (outside the
// audit directory) over the previous entry's leaf hash (32 zero bytes before the first entry) and the
// entry's bytes without that member. The MAC is inside the Merkle leaf, so a checkpoint also covers it
// and an edited MAC is caught by the leaf hash without the key. Chaining to the previous leaf ties an
// entry to its place in its own log: the workers of one gateway (and instances told to share the key)
// seal with the same key, and an entry copied from another log onto this one's unsigned tail would
// otherwise verify here. Entries sealed before the chaining (the bare entry MACed) still verify, so a tail
// written by an earlier version opens, but not after a chained entry of the same log: old entries of
// another log would otherwise fit there for ever.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

const MAC_HEX = 64;
/** what the first entry of a log is chained to */
export const FIRST_PREVIOUS = Buffer.alloc(32);
/** `,"mac":"` + 64 hex + `"}` ends every sealed entry body */
const SUFFIX_START = Buffer.from(',"mac":"');
export const MAC_SUFFIX_BYTES = SUFFIX_START.length + MAC_HEX + 2;

export class EntryMac {
  // a KeyObject made once: keying createHmac with it is cheaper than with raw bytes per entry, and
  // the writer seals every entry
  private readonly key: KeyObject;

  constructor(key: string | Buffer) {
    const k = Buffer.from(key);
    if (k.length < 32) throw new RangeError('the entry MAC key must be at least 32 bytes');
    this.key = createSecretKey(k);
  }

  /** HMAC-SHA256 over the concatenation of parts. */
  mac(...parts: (string | Buffer)[]): Buffer {
    const hmac = createHmac('sha256', this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest();
  }

  /** `{...}` (an unsealed entry) → the same object with its MAC as last member, chained to `previous`
   * (the leaf hash of the entry before it in the same log, FIRST_PREVIOUS for the first). */
  seal(unsealed: string, previous: Buffer): string {
    return `${unsealed.slice(0, -1)},"mac":"${this.mac(previous, unsealed).toString('hex')}"}`;
  }

  /** How body (a sealed entry's exact bytes) was sealed for its place after `previous`: `chained`, `bare`
   * (the MAC of an entry sealed before the chaining), or undefined when its MAC is neither; compared in
   * constant time. */
  sealing(body: Buffer, previous: Buffer): 'chained' | 'bare' | undefined {
    const at = body.length - MAC_SUFFIX_BYTES;
    if (at < 1 || !body.subarray(at, at + SUFFIX_START.length).equals(SUFFIX_START)) return undefined;
    const stored = Buffer.from(
      body.toString('latin1', at + SUFFIX_START.length, at + SUFFIX_START.length + MAC_HEX),
      'hex',
    );
    if (stored.length !== 32) return undefined;
    const unsealed = body.subarray(0, at);
    if (timingSafeEqual(stored, this.mac(previous, unsealed, '}'))) return 'chained';
    return timingSafeEqual(stored, this.mac(unsealed, '}')) ? 'bare' : undefined;
  }
}

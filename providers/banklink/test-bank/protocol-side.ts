// The bank's side of the banklink protocol: it verifies the gateway's 4012/4011 exactly as a bank would
// and builds the signed 3013/3012 answer, shaped by the chosen misbehaviour.
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { formatDatetime, parseDatetime } from '../datetime.ts';
import { joinName } from '../names.ts';
import {
  hashFor,
  isEncoding,
  macString,
  overlongField,
  REPLY_TO,
  signMac,
  verifyMac,
  type Encoding,
  type Hash,
  type Version,
} from '../protocol.ts';
import type { KeyMaterial } from './material.ts';
import type { Misbehaviour, TestBankOptions, TestUser } from './options.ts';

/** A verified request waiting for the user. */
export interface Pending {
  request: Record<string, string>;
  encoding: Encoding;
  version: Version;
  hash: Hash;
  user?: TestUser;
  attempts: number;
  createdAt: number;
}

export type Checked = { reason: string } | { encoding: Encoding; version: Version; hash: Hash };

export class BankProtocol {
  private readonly bankKey: KeyObject;
  private readonly merchantKey: KeyObject;
  private readonly windowMs: number;
  private readonly seenNonces = new Map<string, number>();
  private previousNonce: string | undefined;
  private previousRid: string | undefined;

  private readonly options: TestBankOptions & { material: KeyMaterial };
  private readonly users: readonly TestUser[];

  constructor(options: TestBankOptions & { material: KeyMaterial }, users: readonly TestUser[]) {
    this.options = options;
    this.users = users;
    this.bankKey = createPrivateKey(options.material.privateKeyPem);
    this.merchantKey = createPublicKey(
      new X509Certificate(options.merchantCertificatePem).publicKey.export({ type: 'spki', format: 'pem' }),
    );
    this.windowMs = (options.datetimeWindowSeconds ?? 300) * 1000;
  }

  /** Forget nonces older than `before` (ms since the epoch). */
  sweep(before: number): void {
    for (const [k, t] of this.seenNonces) if (t < before) this.seenNonces.delete(k);
  }

  /** Verify the gateway's 4012/4011; returns a reason when it must be refused. */
  check(f: Record<string, string>): Checked {
    const { options } = this;
    const service = f.VK_SERVICE;
    if (service !== '4012' && service !== '4011') return { reason: 'VK_SERVICE must be 4012 or 4011' };
    const version = f.VK_VERSION;
    if (version !== '008' && version !== '009') return { reason: 'VK_VERSION must be 008 or 009' };
    const encoding = (f.VK_ENCODING || 'UTF-8').toUpperCase();
    if (!isEncoding(encoding)) return { reason: 'VK_ENCODING is not supported' };
    if (!f.VK_MAC) return { reason: 'VK_MAC is missing' };
    const tooLong = overlongField({ ...f, VK_MAC: f.VK_MAC.replace(/\s+/g, '') });
    if (tooLong) return { reason: `${tooLong} is too long` };
    const hash = version === '008' ? 'sha1' : (options.hash ?? hashFor(version, false));
    let mac: string;
    try {
      mac = macString(f, { lengthMode: options.lengthMode ?? 'characters', encoding });
    } catch (err) {
      return { reason: (err as Error).message };
    }
    if (!verifyMac(mac, f.VK_MAC, this.merchantKey, hash, encoding))
      return { reason: 'VK_MAC does not verify with the merchant certificate' };
    if (f.VK_SND_ID !== options.merchantId) return { reason: 'VK_SND_ID is not a known merchant' };
    if (service === '4012' && f.VK_REC_ID !== options.bankId) return { reason: 'VK_REC_ID is not this bank' };
    if (service === '4011' && f.VK_REPLY !== '3012') return { reason: 'VK_REPLY must be 3012' };
    const when = parseDatetime(f.VK_DATETIME ?? '');
    if (!when || Math.abs(Date.now() - when.getTime()) > this.windowMs)
      return { reason: 'VK_DATETIME is malformed or outside the window' };
    let ret: URL;
    try {
      ret = new URL(f.VK_RETURN ?? '');
    } catch {
      return { reason: 'VK_RETURN is not a URL' };
    }
    if (ret.protocol !== 'https:' && ret.protocol !== 'http:') return { reason: 'VK_RETURN must be http(s)' };
    if (service === '4012') {
      if (!f.VK_NONCE) return { reason: 'VK_NONCE is missing' };
      if (this.seenNonces.has(f.VK_NONCE)) return { reason: 'VK_NONCE was already used' };
      this.seenNonces.set(f.VK_NONCE, Date.now());
    }
    return { encoding, version, hash };
  }

  private answerTime(how: Misbehaviour): string {
    const now = Date.now();
    const offsets: Partial<Record<Misbehaviour, number>> = {
      stale_time: -3_600_000,
      future_time: 3_600_000,
      early_time: -120_000,
    };
    const time = new Date(now + (offsets[how] ?? 0));
    return how === 'bad_datetime' ? `${time.toISOString().slice(0, 19)}Z` : formatDatetime(time, 120);
  }

  /** The signed answer to a pending request (no user: the cancel answer with empty identity fields). */
  answer(p: Pending, user: TestUser | undefined, how: Misbehaviour): { url: string; fields: Record<string, string> } {
    const { options } = this;
    const req = p.request;
    const requestService = req.VK_SERVICE as '4011' | '4012';
    let service: string = REPLY_TO[requestService];
    if (how === 'wrong_service') service = service === '3013' ? '3012' : '3013';
    const cancel = how === 'cancel' || !user;
    const chosen = how === 'unknown_user' ? (this.users.find((u) => u.id === 'unknown') ?? user) : user;
    const fields: Record<string, string> = {
      VK_SERVICE: service,
      VK_VERSION: how === 'wrong_version' ? (p.version === '009' ? '008' : '009') : p.version,
      VK_DATETIME: this.answerTime(how),
      VK_SND_ID: how === 'wrong_sender' ? `${options.bankId}X` : options.bankId,
      VK_REC_ID: how === 'wrong_receiver' ? `${req.VK_SND_ID}X` : req.VK_SND_ID!,
      VK_USER_NAME: cancel
        ? ''
        : joinName(chosen!.givenName, chosen!.familyName, options.nameFormat ?? 'surname_comma_given'),
      VK_USER_ID: cancel ? '' : chosen!.personalCode,
      VK_COUNTRY: cancel ? '' : chosen!.country,
      VK_OTHER: '',
      VK_TOKEN: cancel ? '' : how === 'bad_token' ? '99' : (chosen!.token ?? options.token ?? '5'),
      VK_RID: how === 'wrong_rid' ? this.otherRid(req.VK_RID) : (req.VK_RID ?? ''),
    };
    if (service === '3013') {
      const nonce = req.VK_NONCE ?? '';
      fields.VK_NONCE =
        how === 'replay_nonce'
          ? (this.previousNonce ?? nonce)
          : how === 'wrong_nonce'
            ? randomBytes(24).toString('base64url')
            : nonce;
    } else {
      fields.VK_USER = cancel ? '' : `U${(chosen?.id ?? '').toUpperCase()}`;
    }
    const mac = macString(fields, { lengthMode: options.lengthMode ?? 'characters', encoding: p.encoding });
    let signature = signMac(mac, this.bankKey, p.hash, p.encoding);
    if (how === 'bad_signature') {
      const raw = Buffer.from(signature, 'base64');
      raw[raw.length - 1]! ^= 0x01;
      signature = raw.toString('base64');
    }
    if (how === 'mac_line_breaks') signature = signature.replace(/.{64}/g, '$&\r\n');
    const out: Record<string, string> = { ...fields, VK_ENCODING: p.encoding, VK_LANG: req.VK_LANG ?? 'ENG' };
    if (how !== 'no_mac') out.VK_MAC = signature;
    if (requestService === '4012' && req.VK_NONCE) this.previousNonce = req.VK_NONCE;
    this.previousRid = req.VK_RID;
    return { url: req.VK_RETURN!, fields: out };
  }

  /** The RID of an earlier login (or a random one): an answer meant for another login. */
  private otherRid(rid: string | undefined): string {
    return this.previousRid && this.previousRid !== rid ? this.previousRid : randomBytes(20).toString('base64url');
  }
}

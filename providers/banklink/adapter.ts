// The banklink ("iPizza") adapter: sends 4012 (or 4011) as an auto-submitting form and verifies the bank's
// 3013 (or 3012) answer on the broker callback. The broker state travels as VK_RID.
//
// Cancel: the protocol has no authentication-cancel message (payments have 1911). A bank that lets the
// user cancel answers, like our test bank, with a correctly signed 3013/3012 whose identity fields
// (VK_USER_ID, VK_USER_NAME, VK_COUNTRY, VK_TOKEN) are all empty; after every other check passes that
// becomes `user_cancel`. An unsigned return is never trusted, not even to cancel.
import { createHash, randomBytes, type KeyObject, type X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { AdapterConfigError, ProviderError } from '../../src/broker/adapter.ts';
import type { AdapterDeps, ProviderAdapter } from '../../src/broker/adapter.ts';
import type { CallbackContext, CallbackResult, StartContext, StartResult } from '../../src/broker/adapter.ts';
import { freshAuthTime } from '../../src/broker/freshness.ts';
import { constantTimeEqual } from '../../src/constant-time.ts';
import { CertificateValidity } from '../../src/tls/certificate-validity.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { DEFAULT_TOKENS, effectiveHash, type BanklinkConfig, type TokenMethod } from './config.ts';
import { checkBanklink, loadBanklinkKeys } from './keys.ts';
import { formatDatetime, parseDatetime } from './datetime.ts';
import { identityFromAnswer, vkFields } from './answer.ts';
import {
  decodeBase64,
  macString,
  overlongField,
  ProtocolError,
  REPLY_TO,
  signMac,
  verifyMac,
  type Encoding,
  type Hash,
} from './protocol.ts';

/** What the broker keeps for one login (never shown to the browser). */
const banklinkConnDataSchema = z.strictObject({
  state: z.string(),
  service: z.enum(['4011', '4012']),
  nonce: z.string().optional(),
});
type BanklinkConnData = z.infer<typeof banklinkConnDataSchema>;

function sha256(text: string): string {
  return `sha256:${createHash('sha256').update(text).digest('base64url')}`;
}

export class BanklinkAdapter implements ProviderAdapter<BanklinkConnData> {
  readonly kind = 'banklink';
  readonly id: string;
  readonly maxLoa: Loa;
  readonly connDataSchema = banklinkConnDataSchema;
  /** a bank signing in WINDOWS-1257 or ISO-8859-1 serves its answer page in it too, so its form arrives so */
  readonly answerCharset: string | undefined;
  private readonly config: BanklinkConfig;
  private readonly deps: AdapterDeps;
  private readonly hash: Hash;
  private readonly encoding: Encoding;
  private readonly tokens: Record<string, TokenMethod>;
  private readonly privateKey: KeyObject;
  private readonly bankKey: KeyObject;
  private readonly bankCertificate: X509Certificate;
  private readonly validity = new CertificateValidity<X509Certificate>();

  constructor(config: BanklinkConfig, deps: AdapterDeps) {
    this.config = config;
    this.deps = deps;
    this.id = config.id;
    this.maxLoa = config.loa;
    this.hash = effectiveHash(config);
    this.encoding = config.encoding;
    this.answerCharset = config.encoding === 'UTF-8' ? undefined : config.encoding.toLowerCase();
    this.tokens = config.tokens ?? DEFAULT_TOKENS;
    const problems = checkBanklink(config, deps);
    if (problems.length) throw new AdapterConfigError(config.id, problems);
    const keys = loadBanklinkKeys(config);
    this.privateKey = keys.privateKey;
    this.bankKey = keys.bankKey;
    this.bankCertificate = keys.bankCertificate;
    if (this.validity.expiredAt(this.bankCertificate, Date.now()))
      deps.logger.warn('banklink bank certificate has expired', {
        providerId: this.id,
        notAfter: this.bankCertNotAfter(),
      });
    if (this.hash === 'sha1') {
      deps.logger.warn('banklink provider uses the legacy SHA-1 algorithm', {
        providerId: this.id,
        version: config.version,
      });
    }
  }

  formActionOrigins(): string[] {
    return [new URL(this.config.url).origin];
  }

  /** Production refuses to start with an expired bank certificate (src/tls/material-checks.ts); one that
   * expires while the gateway runs no longer vouches for the bank's answers either (the bank may have
   * retired its key with it), so from then on logins there end as an outage until it is replaced. */
  private refuseExpiredCertificate(): void {
    if (this.deps.production && this.validity.expiredAt(this.bankCertificate, Date.now()))
      throw new ProviderError(
        'temporarily_unavailable',
        `bank certificate expired on ${this.bankCertNotAfter()}; bank_certificate must be renewed`,
      );
  }

  private bankCertNotAfter(): string {
    return new Date(this.validity.of(this.bankCertificate).notAfter).toISOString();
  }

  private nonceKey(nonce: string): string {
    return `banklink:nonce:${this.id}:${nonce}`;
  }

  async start(ctx: StartContext): Promise<StartResult<BanklinkConnData>> {
    this.refuseExpiredCertificate();
    const config = this.config;
    const common = { VK_SERVICE: config.service, VK_VERSION: config.version, VK_SND_ID: config.sender_id };
    const datetime = formatDatetime(new Date());
    let fields: Record<string, string>;
    let nonce: string | undefined;
    if (config.service === '4012') {
      nonce = randomBytes(24).toString('base64url');
      fields = {
        ...common,
        VK_REC_ID: config.receiver_id,
        VK_NONCE: nonce,
        VK_RETURN: ctx.callbackUrl,
        VK_DATETIME: datetime,
        VK_RID: ctx.state,
      };
    } else {
      fields = { ...common, VK_REPLY: '3012', VK_RETURN: ctx.callbackUrl, VK_DATETIME: datetime, VK_RID: ctx.state };
    }
    const tooLong = overlongField(fields);
    if (tooLong)
      throw new ProviderError('temporarily_unavailable', `request field ${tooLong} exceeds its maximum length`);
    const mac = macString(fields, { lengthMode: config.length_mode, encoding: this.encoding });
    const signed = {
      ...fields,
      VK_MAC: signMac(mac, this.privateKey, this.hash, this.encoding),
      VK_ENCODING: this.encoding,
      VK_LANG: config.language[ctx.locale],
    };
    if (nonce !== undefined) {
      // issued here, consumed once by callback(): a replayed nonce finds nothing
      const fresh = await this.deps.store.setIfAbsent(this.nonceKey(nonce), ctx.state, config.nonce_ttl_seconds);
      if (!fresh) throw new ProviderError('temporarily_unavailable', 'nonce collision');
    }
    if (this.hash === 'sha1') {
      await this.deps.audit.record({
        type: 'legacy_algorithm_used',
        correlationId: ctx.correlationId,
        providerId: this.id,
        detail: { algorithm: 'RSA-SHA1', version: config.version, service: config.service },
      });
    }
    const connData = { state: ctx.state, service: config.service, ...(nonce !== undefined ? { nonce } : {}) };
    return { action: { type: 'form', url: config.url, fields: signed }, connData, requestDigest: sha256(mac) };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    const rid = params.VK_RID;
    return typeof rid === 'string' && rid.trim() ? rid.trim() : undefined;
  }

  async callback(ctx: CallbackContext<BanklinkConnData>): Promise<CallbackResult> {
    const config = this.config;
    const refuse = (detail: string) => new ProviderError('invalid_response', detail);
    const login = ctx.connData;
    if (ctx.method !== 'POST') throw refuse('banklink answer must arrive by POST');

    const answer = vkFields(ctx.params);

    const expected = REPLY_TO[login.service];
    if (answer.VK_SERVICE !== expected)
      throw refuse(`VK_SERVICE ${JSON.stringify(answer.VK_SERVICE ?? null)} is not the expected ${expected}`);
    if (answer.VK_VERSION !== config.version)
      throw refuse(`VK_VERSION ${JSON.stringify(answer.VK_VERSION ?? null)} is not the configured ${config.version}`);
    if (!answer.VK_MAC) throw refuse('VK_MAC is missing');
    answer.VK_MAC = answer.VK_MAC.replace(/\s+/g, ''); // some banks break base64 into lines
    const tooLong = overlongField(answer);
    if (tooLong) throw refuse(`${tooLong} exceeds its maximum length`);
    if (
      answer.VK_ENCODING !== undefined &&
      answer.VK_ENCODING !== '' &&
      answer.VK_ENCODING.toUpperCase() !== this.encoding
    )
      throw refuse(`VK_ENCODING ${JSON.stringify(answer.VK_ENCODING)} is not the configured ${this.encoding}`);
    if (!decodeBase64(answer.VK_MAC)) throw refuse('VK_MAC is not base64');
    this.refuseExpiredCertificate();

    let mac: string;
    try {
      mac = macString(answer, { lengthMode: config.length_mode, encoding: this.encoding });
    } catch (err) {
      if (err instanceof ProtocolError) throw refuse(`answer is malformed: ${err.message}`);
      throw err;
    }
    if (!verifyMac(mac, answer.VK_MAC, this.bankKey, this.hash, this.encoding))
      throw refuse('VK_MAC signature does not verify with the bank certificate');

    if (!constantTimeEqual(answer.VK_SND_ID ?? '', config.receiver_id))
      throw refuse('VK_SND_ID is not the configured bank id');
    if (!constantTimeEqual(answer.VK_REC_ID ?? '', config.sender_id))
      throw refuse('VK_REC_ID is not the gateway id at this bank');

    const when = parseDatetime(answer.VK_DATETIME ?? '');
    if (!when) throw refuse('VK_DATETIME is not yyyy-MM-ddTHH:mm:ss+hhmm');
    const skew = Math.abs(Date.now() - when.getTime());
    if (skew > config.datetime_window_seconds * 1000)
      throw refuse(`VK_DATETIME is outside the ${config.datetime_window_seconds} s window`);
    // the bank signs VK_DATETIME when the person has authenticated: never before this login began
    const authTime = freshAuthTime(when.getTime(), ctx, { clockSkewSeconds: config.clock_skew_seconds }, 'VK_DATETIME');

    if (!constantTimeEqual(answer.VK_RID ?? '', login.state)) throw refuse('VK_RID does not belong to this login');
    if (login.service === '4012') {
      if (!login.nonce || !answer.VK_NONCE) throw refuse('VK_NONCE is missing');
      if (!constantTimeEqual(answer.VK_NONCE, login.nonce)) throw refuse('VK_NONCE was not issued for this login');
      const owner = await this.deps.store.take(this.nonceKey(login.nonce));
      if (owner === undefined || !constantTimeEqual(owner, login.state))
        throw refuse('VK_NONCE is unknown, expired or already used');
    }
    const responseDigest = sha256(mac);

    return { identity: identityFromAnswer(answer, config, this.tokens, authTime), responseDigest };
  }
}

// The Smart-ID adapter (RP API v3, notification flow). Decoupled: start() sends the browser to this
// adapter's own pages (./routes.ts), which ask for the personal code, start the session, show the
// verification code and poll; once the session has ended they send the browser to the broker callback
// with the broker state and this login's handle. callback() takes the login (single use) and either
// verifies the signed answer (./answer.ts) or refuses it the way the user was already told (./results.ts).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { isBeginningBrowser, ProviderError, type ProviderAdapter } from '../../src/broker/adapter.ts';
import type {
  AdapterDeps,
  CallbackContext,
  CallbackResult,
  StartContext,
  StartResult,
} from '../../src/broker/adapter.ts';
import { constantTimeEqual } from '../../src/constant-time.ts';
import { loaRank, type Loa } from '../../src/identity/loa.ts';
import { createProviderTransport, type DedicatedTransport } from '../../src/tls/transport.ts';
import { spkiSha256 } from '../../src/tls/policy.ts';
import type { Express } from 'express';
import { verifyCompletedSession } from './answer.ts';
import { verifyCompletedV2Session } from './answer-v2.ts';
import { sessionEndAuthTime } from './auth-time.ts';
import { verifierMatches } from './device-link.ts';
import type { CertificateLevel, VerifiedCertificate } from './certificate.ts';
import type { SmartIdConfig } from './config.ts';
import { RevocationPolicy } from './revocation-policy.ts';
import { RpApi, rpCallLimitMs } from './rp-api.ts';
import { endingDetail, told } from './results.ts';
import { NotificationLimit } from './notification-limit.ts';
import { smartIdRoutes } from './routes.ts';
import { newHandle, type SmartIdLogin, SmartIdLogins } from './sessions.ts';

const connDataSchema = z.strictObject({ handle: z.string() });
type SmartIdConnData = z.infer<typeof connDataSchema>;

const LEVEL_LOA: Record<CertificateLevel, Loa> = { QUALIFIED: 'high', ADVANCED: 'substantial' };

/** Every certificate in a PEM file. */
export function readCertificates(path: string): X509Certificate[] {
  const pem = readFileSync(path, 'utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (block) => new X509Certificate(block),
  );
}

export class SmartIdAdapter implements ProviderAdapter<SmartIdConnData> {
  readonly kind = 'smartid';
  readonly id: string;
  readonly maxLoa: Loa;
  readonly connDataSchema = connDataSchema;
  readonly config: SmartIdConfig;
  readonly logins: SmartIdLogins;
  readonly api: RpApi;
  readonly cas: X509Certificate[];
  readonly logger: AdapterDeps['logger'];
  readonly audit: AdapterDeps['audit'];
  /** sessions started by a typed personal code, per person (./notification-limit.ts) */
  readonly notifications: NotificationLimit;
  /** OCSP, where configured (./revocation-policy.ts) */
  readonly revocation: RevocationPolicy | undefined;
  private readonly transport: DedicatedTransport;
  private readonly baseUrl: string;
  private readonly browserOf: AdapterDeps['browserOf'];
  /** logins whose pages another browser asked for: logged once each (a poll asks every second) */
  private readonly refusedLogins = new Set<string>();

  constructor(config: SmartIdConfig, deps: AdapterDeps) {
    this.browserOf = deps.browserOf;
    this.config = config;
    this.id = config.id;
    this.maxLoa = config.loa;
    this.baseUrl = deps.baseUrl.replace(/\/$/, '');
    this.logger = deps.logger;
    this.audit = deps.audit;
    this.cas = config.ca_certificates.flatMap(readCertificates);
    const pins = config.pinned_certificates.flatMap(readCertificates).map(spkiSha256);
    const tls = config.tls ? { ...config.tls, pins: [...(config.tls.pins ?? []), ...pins] } : undefined;
    // a long poll answers after up to long_poll_ms: the read timeout leaves SK five seconds beyond it
    this.transport = createProviderTransport(config.id, tls, { responseTimeout: config.long_poll_ms + 5000 });
    this.api = new RpApi({
      url: config.url,
      transport: this.transport,
      callLimitMs: rpCallLimitMs(config.long_poll_ms),
    });
    // the RP API returns certificates without saying whether SK has revoked them: without OCSP a stolen
    // phone's revoked Smart-ID keeps logging in until its certificate expires
    if (deps.production && !config.ocsp)
      this.logger.warn('Smart-ID revocation not checked', {
        providerId: this.id,
        reason: 'no ocsp block: a revoked certificate is accepted until it expires',
      });
    this.revocation = config.ocsp
      ? new RevocationPolicy(
          config.ocsp,
          config.ocsp.responder_certificates.flatMap(readCertificates),
          this.cas,
          { logger: this.logger, production: deps.production },
          config.id,
        )
      : undefined;
    this.logins = new SmartIdLogins(deps.store, config.id, config.session_ttl_seconds);
    this.notifications = new NotificationLimit(deps.store, config.id, config.relying_party_uuid, config);
  }

  /** The login behind `handle` for a request of the browser that began it. Anyone else holding the handle
   * (a link an attacker sent on) gets nothing: no session start for a victim's personal code, and no
   * callback for a victim's confirmation. `elsewhere`: the login lives, but in another browser. */
  async loginIn(req: IncomingMessage, handle: unknown): Promise<{ login?: SmartIdLogin; elsewhere: boolean }> {
    const login = await this.logins.get(handle);
    if (!login) return { elsewhere: false };
    if (isBeginningBrowser(this.browserOf(req), login.browser)) return { login, elsewhere: false };
    if (!this.refusedLogins.has(login.state)) {
      if (this.refusedLogins.size >= 10_000) this.refusedLogins.clear();
      this.refusedLogins.add(login.state);
      this.logger.warn('Smart-ID page refused', {
        providerId: this.id,
        reason: 'another browser than the login began in',
      });
    }
    return { elsewhere: true };
  }

  /** The first field of what the app signs: SK's demo environment signs as `smart-id-demo`. */
  get schemeName(): string {
    return this.config.environment === 'demo' ? 'smart-id-demo' : 'smart-id';
  }

  /** The pages' absolute URL (the app returns the browser there after Web2App). */
  get publicBase(): string {
    return `${this.baseUrl}${this.pagesPath}`;
  }

  /** Where the adapter's pages live (mounted by the gateway under /providers/<id>). */
  get pagesPath(): string {
    return `/providers/${this.id}`;
  }

  async start(ctx: StartContext): Promise<StartResult<SmartIdConnData>> {
    const handle = newHandle();
    const requiredLevel: CertificateLevel =
      ctx.acr === 'high' || this.config.certificate_level === 'QUALIFIED' ? 'QUALIFIED' : 'ADVANCED';
    await this.logins.create(handle, {
      state: ctx.state,
      browser: ctx.browser,
      callbackUrl: ctx.callbackUrl,
      lang: ctx.pageLocale ?? ctx.locale,
      reference: ctx.correlationId,
      displayText: (ctx.clientId && this.config.service_names[ctx.clientId]) || this.config.relying_party_name,
      requiredLevel,
      phase: 'identify',
    });
    return {
      action: { type: 'redirect', url: `${this.baseUrl}${this.pagesPath}/login?h=${handle}` },
      connData: { handle },
    };
  }

  stateFrom(params: Record<string, string>): string | undefined {
    return params.state;
  }

  async callback(ctx: CallbackContext<SmartIdConnData>): Promise<CallbackResult> {
    const handle = ctx.params.h ?? '';
    if (!constantTimeEqual(handle, ctx.connData.handle))
      throw new ProviderError('invalid_response', 'callback belongs to another Smart-ID login');
    const login = await this.logins.take(handle);
    if (login?.phase !== 'done' || !login.ending)
      throw new ProviderError('invalid_response', 'Smart-ID login not finished or already used');
    const { ending } = login;
    if (ending.type !== 'complete') {
      const { code } = told(ending);
      const detail = endingDetail(ending, this.config.session_ttl_seconds);
      // the waiting page has already shown the user what happened (a cancel goes straight back anyway)
      throw new ProviderError(code, `Smart-ID: ${detail}`, { userInformed: ending.type !== 'cancel' });
    }
    const verified =
      login.flow === 'v2'
        ? verifyCompletedV2Session(
            ending.session,
            {
              hashPreimage: Buffer.from(login.hashPreimage ?? '', 'base64'),
              semanticsIdentifier: login.semanticsIdentifier ?? '',
              requiredLevel: login.requiredLevel,
            },
            this.cas,
          )
        : this.verifyV3(login, ending.session);
    const authTime = sessionEndAuthTime(login.endedAt, ctx);
    const country = verified.semanticsIdentifier.slice(3, 5);
    return {
      identity: {
        givenName: verified.givenName,
        familyName: verified.surname,
        personalCode: verified.semanticsIdentifier.slice(6),
        country,
        // never above what this provider is configured to deliver
        loa: loaRank(LEVEL_LOA[verified.level]) > loaRank(this.maxLoa) ? this.maxLoa : LEVEL_LOA[verified.level],
        amr: ['smart_id'],
        authTime,
        // the document number embeds the personal code: it stays out of the audit trail
        raw: { certificateLevel: verified.level, flow: login.flow ?? 'notification' },
      },
    };
  }

  /** v3: the ACSP_V2 signature, and for Web2App the verifier the browser came back with. */
  private verifyV3(login: SmartIdLogin, session: unknown): VerifiedCertificate {
    const web2app = login.flow === 'web2app';
    const verified = verifyCompletedSession(
      session,
      {
        schemeName: this.schemeName,
        rpChallenge: login.rpChallenge ?? '',
        relyingPartyName: this.config.relying_party_name,
        interactions: login.interactions ?? '',
        initialCallbackUrl: web2app ? (login.initialCallbackUrl ?? '') : '',
        flowTypes: web2app ? ['Web2App'] : login.flow === 'qr' ? ['QR'] : ['Notification'],
        semanticsIdentifier: login.semanticsIdentifier,
        requiredLevel: login.requiredLevel,
        hashAlgorithm: this.config.hash_algorithm,
      },
      this.cas,
    );
    // the browser that came back from the app must be the one the signing app sent back
    if (web2app && !verifierMatches(login.userChallengeVerifier ?? '', verified.userChallenge))
      throw new ProviderError(
        'invalid_response',
        'Smart-ID answer: userChallengeVerifier does not match the signed userChallenge',
      );
    return verified;
  }

  /** The configured OCSP responder certificates: in production trusted only until they expire. */
  certificateExpiries(): readonly { role: string; notAfter: number }[] {
    return this.revocation?.responderExpiries() ?? [];
  }

  routes(app: Express, basePath: string): void {
    app.use(basePath, smartIdRoutes(this));
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

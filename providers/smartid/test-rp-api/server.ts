// A protocol-faithful Smart-ID RP API (v3 notification, Web2App and QR device links; v2 in ./v2.ts) for
// tests and the demo: relying parties authenticate by UUID and name, requests are validated as SK validates
// them (problem JSON on errors), sessions are long-polled, a control API plays the user's phone
// (./control.ts) and the CA has an OCSP responder (./ocsp-responder.ts). Runs in-process (router()) or on
// its own port over HTTPS with its own test CA (./listen.ts, ./main.ts).
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { type HashAlgorithm, isHashAlgorithm } from '../protocol.ts';
import { DEMO_ACCOUNTS, type TestAccount } from './accounts.ts';
import type { IssuedCertificate, TestCa } from './ca.ts';
import { completion, newSessionId, type PhoneAction, type TestSession } from './sessions.ts';
import { controlRoutes, problem } from './control.ts';
import { v2Routes } from './v2.ts';
import { phoneRoutes } from './phone.ts';
import { deviceLinkRoutes } from './device-link.ts';
import { TestOcspResponder } from './ocsp-responder.ts';
import { drip, flood } from './endless-answers.ts';

export interface RelyingParty {
  uuid: string;
  name: string;
}

export interface TestRpApiOptions {
  ca: TestCa;
  relyingParties: readonly RelyingParty[];
  accounts?: readonly TestAccount[];
  /** `smart-id-demo` (SK's demo environment, the default) or `smart-id` */
  schemeName?: string;
  /** every call answers 580, as SK does during maintenance */
  maintenance?: boolean;
}

const AUTO: Record<string, PhoneAction> = {
  ok: 'confirm',
  refuse: 'refuse',
  timeout: 'timeout',
  wrong_vc: 'wrong_vc',
  unusable: 'unusable',
  not_supported: 'not_supported',
};

export class TestRpApi {
  readonly sessions = new Map<string, TestSession>();
  /** the most polls each session has had in flight at once (a relying party should hold one at a time) */
  readonly pollPeaks = new Map<string, number>();
  private readonly polling = new Map<string, number>();
  readonly options: TestRpApiOptions;
  readonly accounts: TestAccount[];
  private readonly certificates = new Map<string, Promise<IssuedCertificate>>();
  /** issued authentication certificates by serial number (hex): what the OCSP responder answers for */
  readonly issued = new Map<string, { account: TestAccount; certificate: IssuedCertificate }>();
  private holder: TestAccount | undefined;

  /** the OCSP responder of the test CA (served on its own plain HTTP port, as OCSP usually is) */
  readonly ocsp: TestOcspResponder;

  constructor(options: TestRpApiOptions) {
    this.options = options;
    this.ocsp = new TestOcspResponder(this);
    this.accounts = [...(options.accounts ?? DEMO_ACCOUNTS)];
  }

  private certificateOf(account: TestAccount): Promise<IssuedCertificate> {
    let cert = this.certificates.get(account.semanticsIdentifier);
    if (!cert) {
      cert = this.options.ca
        .issuePerson(account, { level: account.level ?? 'QUALIFIED', ...account.certificate })
        .then((certificate) => {
          this.issued.set(certificate.certificate.serialNumber.toLowerCase(), { account, certificate });
          return certificate;
        });
      this.certificates.set(account.semanticsIdentifier, cert);
    }
    return cert;
  }

  /** Whose phone opens device links: the first account that would confirm, unless a test says otherwise. */
  deviceHolder(): TestAccount {
    return (
      this.holder ?? this.accounts.find((a) => a.behaviour === 'ok' || a.behaviour === 'phone') ?? this.accounts[0]!
    );
  }

  /** Make `account` the holder of the phone that opens device links. */
  holdDevice(account: TestAccount): void {
    this.holder = account;
  }

  /** The phone's answer: completes a running session (false when it is not running). */
  async act(sessionId: string, action: PhoneAction): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session || session.result) return false;
    const cert = await this.certificateOf(session.account);
    session.result = completion(session, action, cert, this.options.schemeName ?? 'smart-id-demo');
    for (const wake of session.waiters.splice(0)) wake();
    return true;
  }

  /** Running sessions waiting for a phone, newest first. */
  running(semanticsIdentifier?: string): TestSession[] {
    return [...this.sessions.values()]
      .filter((s) => !s.result && (!semanticsIdentifier || s.account.semanticsIdentifier === semanticsIdentifier))
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  router(): Router {
    const router = express.Router();
    router.use(express.json({ limit: '16kb' }));
    /** SK's checks of an authentication request; the session's fields, or the refusal already sent. */
    const accept = (
      req: Request,
      res: Response,
    ): Omit<TestSession, 'id' | 'account' | 'certificateLevel' | 'flowType'> | undefined => {
      if (this.options.maintenance) return void problem(res, 580, 'System is under maintenance');
      const body = (req.body ?? {}) as Record<string, unknown>;
      const rp = this.options.relyingParties.find(
        (r) => r.uuid === body.relyingPartyUUID && r.name === body.relyingPartyName,
      );
      if (!rp) return void problem(res, 401, 'Unauthorized');
      const params = body.signatureProtocolParameters as Record<string, unknown> | undefined;
      const algorithm = params?.signatureAlgorithmParameters as Record<string, unknown> | undefined;
      const rpChallenge = typeof params?.rpChallenge === 'string' ? params.rpChallenge : '';
      const challengeBytes = Buffer.from(rpChallenge, 'base64');
      let interactions: unknown;
      try {
        interactions = JSON.parse(Buffer.from(String(body.interactions), 'base64').toString('utf8'));
      } catch {
        interactions = undefined;
      }
      const level = body.certificateLevel ?? 'QUALIFIED';
      if (
        body.signatureProtocol !== 'ACSP_V2' ||
        params?.signatureAlgorithm !== 'rsassa-pss' ||
        !isHashAlgorithm(algorithm?.hashAlgorithm) ||
        challengeBytes.length < 32 ||
        challengeBytes.length > 64 ||
        challengeBytes.toString('base64') !== rpChallenge ||
        !Array.isArray(interactions) ||
        interactions.length === 0 ||
        (level !== 'QUALIFIED' && level !== 'ADVANCED')
      )
        return void problem(res, 400, 'Bad Request');
      return {
        relyingPartyName: rp.name,
        rpChallenge,
        interactions: String(body.interactions),
        hashAlgorithm: algorithm!.hashAlgorithm as HashAlgorithm,
        requestedLevel: level,
        createdAt: Date.now(),
        waiters: [],
      };
    };

    router.post('/v3/authentication/notification/etsi/:id', async (req, res) => {
      const request = accept(req, res);
      if (!request) return;
      if ((req.body as Record<string, unknown>).vcType !== 'numeric4') return problem(res, 400, 'Bad Request');
      const account = this.accounts.find((a) => a.semanticsIdentifier === req.params.id);
      if (!account) return problem(res, 404, 'Object not found');
      if (request.requestedLevel === 'QUALIFIED' && account.level === 'ADVANCED')
        return problem(res, 471, 'No suitable account');
      const id = newSessionId();
      this.sessions.set(id, {
        ...request,
        id,
        account,
        certificateLevel: account.level ?? 'QUALIFIED',
        flowType: 'Notification',
      });
      res.json({ sessionID: id });
    });

    v2Routes(this, router);

    // Web2App and QR: the person is whoever opens the link; the test's or the demo's phone says who (./device-link.ts)
    router.post('/v3/authentication/device-link/anonymous', (req, res) => {
      const request = accept(req, res);
      if (!request) return;
      // with initialCallbackUrl the link is for Web2App (the app returns the browser); without it, a QR code
      const callback = (req.body as Record<string, unknown>).initialCallbackUrl;
      if (
        callback !== undefined &&
        (typeof callback !== 'string' || !/^https?:\/\/[^#]+$/.test(callback) || callback.length > 1000)
      )
        return problem(res, 400, 'Bad Request');
      const id = newSessionId();
      const sessionToken = randomBytes(18).toString('base64url');
      const sessionSecret = randomBytes(32).toString('base64');
      this.sessions.set(id, {
        ...request,
        id,
        account: this.deviceHolder(),
        certificateLevel: this.deviceHolder().level ?? 'QUALIFIED',
        flowType: callback === undefined ? 'QR' : 'Web2App',
        sessionToken,
        sessionSecret,
        ...(callback === undefined ? {} : { initialCallbackUrl: callback }),
      });
      const deviceLinkBase = `${req.protocol}://${req.get('host')}${req.baseUrl}/device-link`;
      res.json({ sessionID: id, sessionToken, sessionSecret, deviceLinkBase });
    });
    router.use('/device-link', deviceLinkRoutes(this));

    // v2 and v3 sessions are polled alike
    router.get(['/v2/session/:id', '/v3/session/:id'], async (req, res) => {
      if (this.options.maintenance) return problem(res, 580, 'System is under maintenance');
      const session = this.sessions.get(String(req.params.id));
      if (!session) return problem(res, 404, 'Session not found');
      if (session.account.misbehave === 'drip_poll') return drip(res);
      if (session.account.misbehave === 'flood_poll') return flood(res);
      // a device-link session waits for its link to be opened, whoever holds the phone
      const auto = session.flowType === 'Notification' ? AUTO[session.account.behaviour] : undefined;
      if (!session.result && auto) await this.act(session.id, auto);
      if (!session.result) {
        const timeoutMs = Math.min(Math.max(Number(req.query.timeoutMs) || 60_500, 1000), 120_000);
        const inFlight = (this.polling.get(session.id) ?? 0) + 1;
        this.polling.set(session.id, inFlight);
        this.pollPeaks.set(session.id, Math.max(inFlight, this.pollPeaks.get(session.id) ?? 0));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          session.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
          res.on('close', () => clearTimeout(timer));
        });
        this.polling.set(session.id, (this.polling.get(session.id) ?? 1) - 1);
      }
      res.json(session.result ?? { state: 'RUNNING' });
    });

    router.use('/control', controlRoutes(this));
    router.use('/phone', phoneRoutes(this));
    return router;
  }
}

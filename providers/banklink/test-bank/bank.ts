// A standalone banklink test bank that speaks the real protocol: it verifies the gateway's signed 4012/4011
// with the gateway's certificate, shows a login page with test users and a one-time-code step, and answers
// with a correctly signed 3013/3012 by auto-POST to VK_RETURN. It can be told to misbehave (per bank or per
// request) so tests can prove each rejection. Development use only.
//
// Cancel: the protocol has no authentication-cancel message, so "Cancel" answers with a correctly signed
// 3013/3012 whose identity fields (VK_USER_NAME, VK_USER_ID, VK_COUNTRY, VK_TOKEN) are empty.
import express, { type Request, type Response, type Router } from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { generateKeyMaterial, type KeyMaterial } from './material.ts';
import { DEFAULT_USERS, isMisbehaviour, type Misbehaviour, type TestBankOptions } from './options.ts';
import { escapeHtml } from '../../../src/web/html.ts';
import { autoPost, codeBody, loginBody, page, refuse } from './pages.ts';
import { BankProtocol, type Pending } from './protocol-side.ts';

export { MISBEHAVIOURS, type Misbehaviour, type TestBankOptions, type TestUser } from './options.ts';

export interface TestBank {
  router: Router;
  certificatePem: string;
  privateKeyPem: string;
  options: Readonly<TestBankOptions>;
  /** change the default behaviour at run time */
  setMisbehaviour(m: Misbehaviour): void;
  /** the last request that verified (for assertions) */
  lastRequest(): Record<string, string> | undefined;
}

function strings(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object')
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

/** Key material for a bank id, generated (2048-bit RSA, self-signed) unless given. */
async function materialFor(options: TestBankOptions): Promise<KeyMaterial> {
  return options.material ?? generateKeyMaterial(`${options.bankId} test bank`);
}

/** Everything but the HTTP listener: mount `router` anywhere (the demo uses /demo/banks/<id>). */
export async function createTestBank(options: TestBankOptions): Promise<TestBank> {
  return testBankRouter({ ...options, material: await materialFor(options) });
}

/**
 * The bank as an express router the demo can mount in-process (e.g. under /demo/banks/<id>); synchronous,
 * so it needs the bank's key material (see loadOrCreateKeyMaterial in ./material.ts).
 */
export function testBankRouter(options: TestBankOptions & { material: KeyMaterial }): TestBank {
  const material = options.material;
  const users = options.users ?? DEFAULT_USERS;
  const protocol = new BankProtocol(options, users);
  const oneTimeCode = options.oneTimeCode ?? '123456';
  const bankName = options.displayName ?? options.bankId;
  let misbehaviour: Misbehaviour = options.misbehave ?? 'none';
  const pending = new Map<string, Pending>();
  let last: Record<string, string> | undefined;

  const sweep = () => {
    const old = Date.now() - 15 * 60_000;
    for (const [k, v] of pending) if (v.createdAt < old) pending.delete(k);
    protocol.sweep(old);
  };
  /** the pending login a step's form names, or undefined */
  const pendingOf = (f: Record<string, string>) => (f.session ? pending.get(f.session) : undefined);
  const chosenBehaviour = (f: Record<string, string>) => (isMisbehaviour(f.misbehave) ? f.misbehave : misbehaviour);

  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }));

  // The banklink endpoint: the gateway's auto-submitting form lands here.
  router.post('/', (req: Request, res: Response) => {
    sweep();
    const f = strings(req.body);
    const checked = protocol.check(f);
    if ('reason' in checked) return refuse(res, checked.reason);
    last = f;
    const session = randomBytes(18).toString('base64url');
    pending.set(session, { request: f, ...checked, attempts: 0, createdAt: Date.now() });
    const body = loginBody({
      base: req.baseUrl,
      session,
      bankName,
      merchant: f.VK_SND_ID ?? '',
      users,
      current: misbehaviour,
    });
    res.type('html').send(page(res, `${bankName}: log in`, body));
  });

  // Step 1: the user picked; ask for the one-time code.
  router.post('/login', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = pendingOf(f);
    if (!p) return refuse(res, 'login session unknown or expired');
    const user = users.find((u) => u.id === f.user);
    if (!user) return refuse(res, 'no such test user');
    p.user = user;
    const body = codeBody({
      base: req.baseUrl,
      session: f.session!,
      how: chosenBehaviour(f),
      code: oneTimeCode,
      error: '',
    });
    res.type('html').send(page(res, 'One-time code', body));
  });

  // Step 2: the code; a right one answers the gateway, three wrong ones cancel.
  router.post('/confirm', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = pendingOf(f);
    if (!p?.user) return refuse(res, 'login session unknown or expired');
    const how = chosenBehaviour(f);
    if (f.code !== oneTimeCode) {
      p.attempts += 1;
      if (p.attempts >= 3) {
        pending.delete(f.session!);
        return autoPost(res, protocol.answer(p, undefined, 'cancel'));
      }
      const error = 'Wrong code, try again.';
      const body = codeBody({ base: req.baseUrl, session: f.session!, how, code: oneTimeCode, error });
      return void res
        .status(200)
        .type('html')
        .send(page(res, 'One-time code', body));
    }
    pending.delete(f.session!);
    autoPost(res, protocol.answer(p, p.user, how));
  });

  router.post('/cancel', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = pendingOf(f);
    if (!p) return refuse(res, 'login session unknown or expired');
    pending.delete(f.session!);
    autoPost(res, protocol.answer(p, undefined, 'cancel'));
  });

  router.get('/', (_req: Request, res: Response) => {
    const body = `<h1>${escapeHtml(bankName)}</h1><p>Banklink test bank. POST a signed 4012 or 4011 here.</p><pre id="certificate">${escapeHtml(material.certificatePem)}</pre>`;
    res.type('html').send(page(res, bankName, body));
  });
  router.get('/certificate.pem', (_req: Request, res: Response) => {
    res.type('application/x-pem-file').send(material.certificatePem);
  });

  return {
    router,
    certificatePem: material.certificatePem,
    privateKeyPem: material.privateKeyPem,
    options,
    setMisbehaviour: (m) => {
      misbehaviour = m;
    },
    lastRequest: () => last,
  };
}

export interface RunningTestBank extends TestBank {
  /** the banklink endpoint (where the gateway's form posts) */
  url: string;
  close(): Promise<void>;
}

/** Start the bank on its own HTTP listener (loopback, port 0 = any free port). */
export async function startTestBank(
  options: TestBankOptions & { port?: number; host?: string },
): Promise<RunningTestBank> {
  const bank = await createTestBank(options);
  const app = express();
  app.disable('x-powered-by');
  app.use('/', bank.router);
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...bank,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// A standalone banklink test bank that speaks the real protocol: it verifies the gateway's signed 4012/4011
// with the gateway's certificate, shows a login page with test users and a one-time-code step, and answers
// with a correctly signed 3013/3012 by auto-POST to VK_RETURN. It can be told to misbehave (per bank or per
// request) so tests can prove each rejection. Development use only.
//
// Cancel: the protocol has no authentication-cancel message, so "Cancel" answers with a correctly signed
// 3013/3012 whose identity fields (VK_USER_NAME, VK_USER_ID, VK_COUNTRY, VK_TOKEN) are empty.
import express, { type Request, type Response, type Router } from 'express';
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { formatDatetime, parseDatetime } from '../datetime.ts';
import { joinName, type NameFormat } from '../names.ts';
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
  type LengthMode,
  type Version,
} from '../protocol.ts';
import { generateKeyMaterial, type KeyMaterial } from './material.ts';

export const MISBEHAVIOURS = [
  'none',
  'bad_signature', // VK_MAC does not verify
  'no_mac', // VK_MAC left out
  'mac_line_breaks', // valid VK_MAC broken into 64-character lines (must still be accepted)
  'wrong_sender', // VK_SND_ID is not the bank's id
  'wrong_receiver', // VK_REC_ID is not the gateway's id
  'wrong_service', // answers 4012 with 3012 or 4011 with 3013
  'wrong_version', // VK_VERSION differs from the request
  'stale_time', // VK_DATETIME an hour old
  'future_time', // VK_DATETIME an hour ahead
  'early_time', // VK_DATETIME two minutes old: inside the window, but before the login started (a reused authentication)
  'bad_datetime', // VK_DATETIME in ISO form with `Z` instead of +hhmm
  'replay_nonce', // VK_NONCE of an earlier request
  'wrong_nonce', // a VK_NONCE that was never issued
  'wrong_rid', // VK_RID of another login
  'unknown_user', // a user whose personal code is not valid
  'bad_token', // VK_TOKEN outside the known methods
  'cancel', // the user cancelled
] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

export interface TestUser {
  id: string;
  givenName: string;
  familyName: string;
  personalCode: string;
  country: string;
  /** VK_TOKEN the bank reports for this user (default: the bank's token) */
  token?: string;
}

/** Valid codes from ../../../../shared/reference/identity.md, an Estonian user and one the gateway must refuse. */
export const DEFAULT_USERS: readonly TestUser[] = [
  { id: 'janis', givenName: 'Jānis', familyName: 'Bērziņš', personalCode: '010180-15097', country: 'LV' },
  { id: 'anna', givenName: 'Anna Marija', familyName: 'Kalniņa', personalCode: '32503511782', country: 'LV' },
  { id: 'karlis', givenName: 'Kārlis', familyName: 'Ozols', personalCode: '161175-19997', country: 'LV', token: '6' },
  { id: 'tooger', givenName: 'Leõpäöld', familyName: 'Tõõger', personalCode: '37602294565', country: 'EE' },
  { id: 'unknown', givenName: 'Nezināms', familyName: 'Lietotājs', personalCode: '123456-12345', country: 'LV' },
];

export interface TestBankOptions {
  /** the bank's id: VK_REC_ID of requests, VK_SND_ID of answers */
  bankId: string;
  /** the gateway's id at this bank (VK_SND_ID of requests) */
  merchantId: string;
  /** PEM certificate whose key verifies the gateway's requests */
  merchantCertificatePem: string;
  /** the bank's key and certificate (generated when absent) */
  material?: KeyMaterial;
  /** page title */
  displayName?: string;
  nameFormat?: NameFormat;
  /** signature hash override (default: SHA-1 for 008, SHA-512 for 009) */
  hash?: Hash;
  lengthMode?: LengthMode;
  /** default behaviour of every answer; a request may choose another (form field `misbehave`) */
  misbehave?: Misbehaviour;
  users?: readonly TestUser[];
  /** the one-time code the second step asks for */
  oneTimeCode?: string;
  /** VK_TOKEN reported by default (5: one-time codes) */
  token?: string;
  datetimeWindowSeconds?: number;
}

interface Pending {
  request: Record<string, string>;
  encoding: Encoding;
  version: Version;
  hash: Hash;
  user?: TestUser;
  attempts: number;
  createdAt: number;
}

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

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]!);

// When mounted inside the gateway (demo), its Content-Security-Policy nonce must be on inline style/script.
function cspNonce(res: Response): string {
  const n: unknown = res.locals.cspNonce;
  return typeof n === 'string' ? ` nonce="${esc(n)}"` : '';
}

function page(res: Response, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style${cspNonce(res)}>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}fieldset{border:1px solid #ccc;margin:1rem 0}.error{color:#a00}.muted{color:#666;font-size:.9rem}</style></head>
<body><p class="muted">TEST BANK: development only, not a real bank</p>${body}</body></html>`;
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('\n');
}

function strings(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (body && typeof body === 'object')
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') out[k] = v.trim();
  return out;
}

function isMisbehaviour(v: unknown): v is Misbehaviour {
  return typeof v === 'string' && (MISBEHAVIOURS as readonly string[]).includes(v);
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
  const bankKey: KeyObject = createPrivateKey(material.privateKeyPem);
  const merchantKey: KeyObject = createPublicKey(
    new X509Certificate(options.merchantCertificatePem).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  const users = options.users ?? DEFAULT_USERS;
  const oneTimeCode = options.oneTimeCode ?? '123456';
  const windowMs = (options.datetimeWindowSeconds ?? 300) * 1000;
  let misbehaviour: Misbehaviour = options.misbehave ?? 'none';
  const pending = new Map<string, Pending>();
  const seenNonces = new Map<string, number>();
  let previousNonce: string | undefined;
  let previousRid: string | undefined;
  let last: Record<string, string> | undefined;

  const sweep = () => {
    const old = Date.now() - 15 * 60_000;
    for (const [k, v] of pending) if (v.createdAt < old) pending.delete(k);
    for (const [k, t] of seenNonces) if (t < old) seenNonces.delete(k);
  };

  const refuse = (res: Response, reason: string) => {
    res
      .status(400)
      .type('html')
      .send(page(res, 'Request refused', `<h1>Request refused</h1><p class="error" id="reason">${esc(reason)}</p>`));
  };

  /** Verify the gateway's 4012/4011 exactly as a bank would; returns a reason when it must be refused. */
  const checkRequest = (
    f: Record<string, string>,
  ): { reason: string } | { encoding: Encoding; version: Version; hash: Hash } => {
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
    if (!verifyMac(mac, f.VK_MAC, merchantKey, hash, encoding))
      return { reason: 'VK_MAC does not verify with the merchant certificate' };
    if (f.VK_SND_ID !== options.merchantId) return { reason: 'VK_SND_ID is not a known merchant' };
    if (service === '4012' && f.VK_REC_ID !== options.bankId) return { reason: 'VK_REC_ID is not this bank' };
    if (service === '4011' && f.VK_REPLY !== '3012') return { reason: 'VK_REPLY must be 3012' };
    const when = parseDatetime(f.VK_DATETIME ?? '');
    if (!when || Math.abs(Date.now() - when.getTime()) > windowMs)
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
      if (seenNonces.has(f.VK_NONCE)) return { reason: 'VK_NONCE was already used' };
      seenNonces.set(f.VK_NONCE, Date.now());
    }
    return { encoding, version, hash };
  };

  /** The signed answer, shaped by the chosen misbehaviour. */
  const answer = (
    p: Pending,
    user: TestUser | undefined,
    how: Misbehaviour,
  ): { url: string; fields: Record<string, string> } => {
    const req = p.request;
    const requestService = req.VK_SERVICE as '4011' | '4012';
    let service: string = REPLY_TO[requestService];
    if (how === 'wrong_service') service = service === '3013' ? '3012' : '3013';
    const cancel = how === 'cancel' || !user;
    const chosen = how === 'unknown_user' ? (users.find((u) => u.id === 'unknown') ?? user) : user;
    const now = Date.now();
    const time =
      how === 'stale_time'
        ? now - 3_600_000
        : how === 'future_time'
          ? now + 3_600_000
          : how === 'early_time'
            ? now - 120_000
            : now;
    let datetime = formatDatetime(new Date(time), 120);
    if (how === 'bad_datetime') datetime = `${new Date(time).toISOString().slice(0, 19)}Z`;
    const fields: Record<string, string> = {
      VK_SERVICE: service,
      VK_VERSION: how === 'wrong_version' ? (p.version === '009' ? '008' : '009') : p.version,
      VK_DATETIME: datetime,
      VK_SND_ID: how === 'wrong_sender' ? `${options.bankId}X` : options.bankId,
      VK_REC_ID: how === 'wrong_receiver' ? `${req.VK_SND_ID}X` : req.VK_SND_ID!,
      VK_USER_NAME: cancel
        ? ''
        : joinName(chosen!.givenName, chosen!.familyName, options.nameFormat ?? 'surname_comma_given'),
      VK_USER_ID: cancel ? '' : chosen!.personalCode,
      VK_COUNTRY: cancel ? '' : chosen!.country,
      VK_OTHER: '',
      VK_TOKEN: cancel ? '' : how === 'bad_token' ? '99' : (chosen!.token ?? options.token ?? '5'),
      VK_RID:
        how === 'wrong_rid'
          ? previousRid && previousRid !== req.VK_RID
            ? previousRid
            : randomBytes(20).toString('base64url')
          : (req.VK_RID ?? ''),
    };
    if (service === '3013') {
      const nonce = req.VK_NONCE ?? '';
      fields.VK_NONCE =
        how === 'replay_nonce'
          ? (previousNonce ?? nonce)
          : how === 'wrong_nonce'
            ? randomBytes(24).toString('base64url')
            : nonce;
    } else {
      fields.VK_USER = cancel ? '' : `U${(chosen?.id ?? '').toUpperCase()}`;
    }
    const mac = macString(fields, { lengthMode: options.lengthMode ?? 'characters', encoding: p.encoding });
    let signature = signMac(mac, bankKey, p.hash, p.encoding);
    if (how === 'bad_signature') {
      const raw = Buffer.from(signature, 'base64');
      raw[raw.length - 1]! ^= 0x01;
      signature = raw.toString('base64');
    }
    if (how === 'mac_line_breaks') signature = signature.replace(/.{64}/g, '$&\r\n');
    const out: Record<string, string> = { ...fields, VK_ENCODING: p.encoding, VK_LANG: req.VK_LANG ?? 'ENG' };
    if (how !== 'no_mac') out.VK_MAC = signature;
    if (requestService === '4012' && req.VK_NONCE) previousNonce = req.VK_NONCE;
    previousRid = req.VK_RID;
    return { url: req.VK_RETURN!, fields: out };
  };

  const autoPost = (res: Response, target: { url: string; fields: Record<string, string> }) => {
    res.type('html').send(
      page(
        res,
        'Returning to the service',
        `<form id="autopost" method="post" action="${esc(target.url)}">
${hidden(target.fields)}
<button type="submit">Return to the service</button></form>
<script${cspNonce(res)}>document.getElementById('autopost').submit()</script>`,
      ),
    );
  };

  const misbehaviourSelect = (current: Misbehaviour) =>
    `<label>Test behaviour <select name="misbehave">${MISBEHAVIOURS.map((m) => `<option value="${m}"${m === current ? ' selected' : ''}>${m}</option>`).join('')}</select></label>`;

  const router = express.Router();
  router.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }));

  // The banklink endpoint: the gateway's auto-submitting form lands here.
  router.post('/', (req: Request, res: Response) => {
    sweep();
    const f = strings(req.body);
    const checked = checkRequest(f);
    if ('reason' in checked) return refuse(res, checked.reason);
    last = f;
    const session = randomBytes(18).toString('base64url');
    pending.set(session, { request: f, ...checked, attempts: 0, createdAt: Date.now() });
    const base = req.baseUrl;
    const userList = users
      .map(
        (u, i) =>
          `<label><input type="radio" name="user" value="${esc(u.id)}"${i === 0 ? ' checked' : ''}> ${esc(u.givenName)} ${esc(u.familyName)} <span class="muted">${esc(u.country)} ${esc(u.personalCode)}</span></label><br>`,
      )
      .join('\n');
    res.type('html').send(
      page(
        res,
        `${options.displayName ?? options.bankId}: log in`,
        `<h1>${esc(options.displayName ?? options.bankId)}</h1>
<p>${esc(f.VK_SND_ID ?? '')} asks you to identify yourself.</p>
<form id="login" method="post" action="${esc(base)}/login">${hidden({ session })}
<fieldset><legend>Test user</legend>${userList}</fieldset>
${misbehaviourSelect(misbehaviour)}
<p><button type="submit">Continue</button></p></form>
<form id="cancel" method="post" action="${esc(base)}/cancel">${hidden({ session })}<button type="submit">Cancel and return to the service</button></form>`,
      ),
    );
  });

  // Step 1: the user picked; ask for the one-time code.
  router.post('/login', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = f.session ? pending.get(f.session) : undefined;
    if (!p) return refuse(res, 'login session unknown or expired');
    const user = users.find((u) => u.id === f.user);
    if (!user) return refuse(res, 'no such test user');
    p.user = user;
    const how = isMisbehaviour(f.misbehave) ? f.misbehave : misbehaviour;
    res.type('html').send(page(res, 'One-time code', codePage(req.baseUrl, f.session!, how, '')));
  });

  const codePage = (
    base: string,
    session: string,
    how: Misbehaviour,
    error: string,
  ) => `<h1>Confirm with a one-time code</h1>
${error ? `<p class="error" id="error">${esc(error)}</p>` : ''}
<p class="muted">Test bank code: <code id="hint">${esc(oneTimeCode)}</code></p>
<form id="confirm" method="post" action="${esc(base)}/confirm">${hidden({ session, misbehave: how })}
<label>Code <input name="code" autocomplete="one-time-code" inputmode="numeric"></label>
<button type="submit">Confirm</button></form>
<form id="cancel" method="post" action="${esc(base)}/cancel">${hidden({ session })}<button type="submit">Cancel and return to the service</button></form>`;

  // Step 2: the code; a right one answers the gateway.
  router.post('/confirm', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = f.session ? pending.get(f.session) : undefined;
    if (!p?.user) return refuse(res, 'login session unknown or expired');
    const how = isMisbehaviour(f.misbehave) ? f.misbehave : misbehaviour;
    if (f.code !== oneTimeCode) {
      p.attempts += 1;
      if (p.attempts >= 3) {
        pending.delete(f.session!);
        return autoPost(res, answer(p, undefined, 'cancel'));
      }
      return void res
        .status(200)
        .type('html')
        .send(page(res, 'One-time code', codePage(req.baseUrl, f.session!, how, 'Wrong code, try again.')));
    }
    pending.delete(f.session!);
    autoPost(res, answer(p, p.user, how));
  });

  router.post('/cancel', (req: Request, res: Response) => {
    const f = strings(req.body);
    const p = f.session ? pending.get(f.session) : undefined;
    if (!p) return refuse(res, 'login session unknown or expired');
    pending.delete(f.session!);
    autoPost(res, answer(p, undefined, 'cancel'));
  });

  router.get('/', (_req: Request, res: Response) => {
    res
      .type('html')
      .send(
        page(
          res,
          options.displayName ?? options.bankId,
          `<h1>${esc(options.displayName ?? options.bankId)}</h1><p>Banklink test bank. POST a signed 4012 or 4011 here.</p><pre id="certificate">${esc(material.certificatePem)}</pre>`,
        ),
      );
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

// A test SAML 2.0 IdP (an eIDAS-node look-alike) that signs with its own key. It verifies the SP's signed
// AuthnRequest (HTTP-Redirect query signature or HTTP-POST enveloped signature), shows a login page with
// "log in" and "cancel", and answers by HTTP-POST with a signed (optionally encrypted) Response. Like an
// eIDAS node it insists on the eIDAS request extensions (SPType, RequestedAttributes) in the eidas profile
// and releases only the attributes requested. Its metadata (GET /metadata) is signed and expires. Like a
// real IdP it keeps a single sign-on session per browser and answers from it unless ForceAuthn="true";
// `misbehave.ignoreForceAuthn` makes it reuse the session even then.
// Use startTestIdp() in tests, or mount testIdpRouter() in-process (the demo does) under its base URL.
import { randomBytes, verify as cryptoVerify } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { inflateRawSync } from 'node:zlib';
import express, { type Request, type Response, type Router } from 'express';
import { DOMImplementation, XMLSerializer } from '@xmldom/xmldom';
import { LOA_URI, loaRank, parseLoa, type Loa } from '../../../src/identity/loa.ts';
import { ATTRIBUTE_PRESETS, type AttributePreset } from '../attributes.ts';
import { generateKeyPair, type KeyPair } from '../keys.ts';
import { SignedXml } from 'xml-crypto';
import { EIDAS_NATURAL_PERSON } from '../attributes.ts';
import { readEidasExtensions, type RequestedAttribute } from '../eidas.ts';
import { RSA_SHA256, redirectSignedQuery } from '../request.ts';
import { verifyEnvelopedSignature } from '../signature.ts';
import { NS, attr, children, optionalChild, parseStrict, requiredAttr, requiredChild, textOf } from '../xml.ts';
import { STATUS, issueResponse } from './response-builder.ts';
import { IdpSessions } from './session.ts';

export interface TestUser {
  /** national code, e.g. `010180-15097` */
  personalCode: string;
  country?: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD, released as eIDAS DateOfBirth when requested */
  dateOfBirth?: string;
}

/** The SP this IdP serves (a test IdP trusts exactly one SP). */
export interface TrustedSp {
  entityId: string;
  /** PEM certificate that signs AuthnRequests */
  signingCert: string;
  /** PEM certificate to encrypt assertions to (needed when `encryptAssertions`) */
  encryptionCert?: string;
  /** when set, AuthnRequests must name exactly this ACS URL */
  acsUrl?: string;
}

export interface TestIdpOptions {
  /** the public URL the router is mounted at (router mode); startTestIdp() sets it */
  baseUrl?: string;
  /** default `<baseUrl>/metadata` */
  entityId?: string;
  /** generated when absent */
  key?: KeyPair;
  /** the SP, or a function that finds it at request time (when the SP is created after the IdP) */
  sp: TrustedSp | (() => TrustedSp | Promise<TrustedSp>);
  encryptAssertions?: boolean;
  signResponse?: boolean;
  signAssertion?: boolean;
  /** which attribute names the IdP releases */
  profile?: AttributePreset;
  /** level the IdP authenticates at */
  loa?: Loa;
  users?: TestUser[];
  /** refuse AuthnRequests without the eIDAS extensions; default: on in the eidas profile */
  requireEidasExtensions?: boolean;
  /** answer from an existing session even when the request says ForceAuthn="true" */
  ignoreForceAuthn?: boolean;
}

export interface IdpMetadataOptions {
  /** default: a day from now; null for none */
  validUntil?: Date | null;
  /** enveloped signature with the IdP's key (default true) */
  sign?: boolean;
}

export const DEFAULT_TEST_USERS: TestUser[] = [
  { personalCode: '010180-15097', givenName: 'Jānis', familyName: 'Bērziņš', dateOfBirth: '1980-01-01' },
  { personalCode: '38001085718', country: 'EE', givenName: 'Mari', familyName: 'Maasikas', dateOfBirth: '1980-01-08' },
];

interface Pending {
  requestId: string;
  acsUrl: string;
  relayState: string | undefined;
  minimumLoa: Loa | undefined;
  /** eIDAS RequestedAttributes, when the request carried them */
  requested: RequestedAttribute[] | undefined;
  forceAuthn: boolean;
  expires: number;
}

export interface TestIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly metadataUrl: string;
  readonly key: KeyPair;
  readonly router: Router;
  /** IdP metadata (EntityDescriptor with the signing certificate and both SSO bindings), signed and expiring by default */
  metadata(o?: IdpMetadataOptions): string;
  /** switch misbehaviour on and off while running; `clockOffsetSeconds` sets the IdP's clock off ours */
  readonly misbehave: { ignoreForceAuthn: boolean; clockOffsetSeconds: number };
  /** Move the login of every single sign-on session this many seconds into the past. */
  ageSessions(seconds: number): void;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
}

/** An auto-submitting form, as SAML HTTP-POST binding pages are. Mounted inside the gateway (the demo),
 * the script must carry the gateway's Content-Security-Policy nonce or a browser will not run it. */
export function autoPostForm(action: string, fields: Record<string, string>, cspNonce?: string): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const nonce = cspNonce ? ` nonce="${esc(cspNonce)}"` : '';
  return page(
    'Continue',
    `<form id="autopost" method="post" action="${esc(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form><script${nonce}>document.forms[0].submit()</script>`,
  );
}

/** Read a form's action and fields from an HTML page (what a browser would submit). */
export function parseForm(html: string): { action: string; fields: Record<string, string> } {
  const unesc = (s: string) =>
    s.replace(/&#(\d+);/g, (_m, d: string) => String.fromCharCode(Number(d))).replace(/&amp;/g, '&');
  const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
  if (action === undefined) throw new Error('page has no form');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    fields[unesc(m[1]!)] = unesc(m[2]!);
  return { action: unesc(action), fields };
}

class RequestRefused extends Error {}

/** Enveloped signature as the first child of the metadata's root, referencing it by ID. */
export function signMetadata(xml: string, key: KeyPair): string {
  const sx = new SignedXml({
    privateKey: key.key,
    publicCert: key.cert,
    signatureAlgorithm: RSA_SHA256,
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sx.addReference({
    xpath: '/*',
    transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', 'http://www.w3.org/2001/10/xml-exc-c14n#'],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  sx.computeSignature(xml, { location: { reference: '/*/*[1]', action: 'before' } });
  return sx.getSignedXml();
}

export async function createTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  const key = options.key ?? (await generateKeyPair('test SAML IdP'));
  const entityId = options.entityId ?? `${baseUrl}/metadata`;
  const ssoUrl = `${baseUrl}/sso`;
  const loa = options.loa ?? 'substantial';
  const users = options.users ?? DEFAULT_TEST_USERS;
  const mapping = ATTRIBUTE_PRESETS[options.profile ?? 'eidas'];
  const pending = new Map<string, Pending>();
  const sp = async () => (typeof options.sp === 'function' ? options.sp() : options.sp);
  const eidasProfile = (options.profile ?? 'eidas') === 'eidas';
  const requireEidas = options.requireEidasExtensions ?? eidasProfile;
  /** what this IdP can release, by eIDAS attribute name */
  const sessions = new IdpSessions(new URL(baseUrl || 'http://x').pathname.replace(/\/+$/, ''));
  const misbehave = { ignoreForceAuthn: options.ignoreForceAuthn ?? false, clockOffsetSeconds: 0 };
  const clock = () => Date.now() + misbehave.clockOffsetSeconds * 1000;
  const releasable = new Set(
    ['PersonIdentifier', 'CurrentFamilyName', 'CurrentGivenName', 'DateOfBirth'].map(
      (n) => `${EIDAS_NATURAL_PERSON}${n}`,
    ),
  );

  /** Parse and check an AuthnRequest whose signature was already verified. */
  async function readAuthnRequest(xml: string, relayState: string | undefined): Promise<Pending> {
    const trusted = await sp();
    const req = parseStrict(xml).documentElement!;
    if (req.namespaceURI !== NS.samlp || req.localName !== 'AuthnRequest')
      throw new RequestRefused('not an AuthnRequest');
    if (attr(req, 'Version') !== '2.0') throw new RequestRefused('not SAML 2.0');
    if (attr(req, 'Destination') !== ssoUrl) throw new RequestRefused('wrong Destination');
    if (textOf(requiredChild(req, NS.saml, 'Issuer')) !== trusted.entityId) throw new RequestRefused('unknown SP');
    const acsUrl = requiredAttr(req, 'AssertionConsumerServiceURL');
    if (trusted.acsUrl && acsUrl !== trusted.acsUrl) throw new RequestRefused('unregistered ACS URL');
    let minimumLoa: Loa | undefined;
    const context = optionalChild(req, NS.samlp, 'RequestedAuthnContext');
    if (context) {
      const refs = children(context, NS.saml, 'AuthnContextClassRef').map((r) => parseLoa(textOf(r)));
      minimumLoa = refs.find((r): r is Loa => r !== undefined);
    }
    // an eIDAS node refuses a request that does not say who asks (SPType) and for what
    const eidas = readEidasExtensions(req);
    if (requireEidas && !eidas)
      throw new RequestRefused('AuthnRequest lacks the eIDAS extensions (SPType, RequestedAttributes)');
    const unknown = eidas?.requestedAttributes.filter((a) => a.required && !releasable.has(a.name)) ?? [];
    if (unknown.length) throw new RequestRefused(`cannot provide mandatory attribute ${unknown[0]!.name}`);
    return {
      requestId: requiredAttr(req, 'ID'),
      acsUrl,
      relayState,
      minimumLoa,
      requested: eidas?.requestedAttributes,
      forceAuthn: attr(req, 'ForceAuthn') === 'true',
      expires: Date.now() + 300_000,
    };
  }

  async function fromRedirect(req: Request): Promise<Pending> {
    // The signature covers the query parameters exactly as they were sent (SAML bindings 3.4.4.1).
    const raw = new URL(req.originalUrl, 'http://x').search.slice(1);
    const parts = new Map(
      raw.split('&').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const),
    );
    const get = (k: string) => (parts.has(k) ? decodeURIComponent(parts.get(k)!) : undefined);
    const samlRequest = get('SAMLRequest');
    const sigAlg = get('SigAlg');
    const signature = get('Signature');
    if (!samlRequest || !signature || sigAlg !== RSA_SHA256)
      throw new RequestRefused('AuthnRequest is not signed with rsa-sha256');
    const signed = redirectSignedQuery('SAMLRequest', samlRequest, get('RelayState'), sigAlg);
    const trusted = await sp();
    if (!cryptoVerify('sha256', Buffer.from(signed, 'utf8'), trusted.signingCert, Buffer.from(signature, 'base64')))
      throw new RequestRefused('AuthnRequest signature does not verify');
    const xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: 100_000 }).toString('utf8');
    return readAuthnRequest(xml, get('RelayState'));
  }

  async function fromPost(req: Request): Promise<Pending> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (typeof body.SAMLRequest !== 'string') throw new RequestRefused('no SAMLRequest');
    const xml = Buffer.from(body.SAMLRequest, 'base64').toString('utf8');
    const root = parseStrict(xml).documentElement!;
    const trusted = await sp();
    verifyEnvelopedSignature(xml, root, [trusted.signingCert]);
    return readAuthnRequest(xml, typeof body.RelayState === 'string' ? body.RelayState : undefined);
  }

  function loginPage(ticket: string): string {
    const options = users
      .map((u, i) => `<option value="${i}">${esc(`${u.givenName} ${u.familyName} (${u.country ?? 'LV'})`)}</option>`)
      .join('');
    return page(
      'Test IdP login',
      `<h1>Test SAML IdP</h1><form method="post" action="${esc(`${baseUrl}/login`)}"><input type="hidden" name="ticket" value="${esc(ticket)}">` +
        `<select name="user">${options}</select><button type="submit" name="action" value="login">Log in</button>` +
        `<button type="submit" name="action" value="cancel">Cancel</button></form>`,
    );
  }

  async function sso(req: Request, res: Response, read: (req: Request) => Promise<Pending>): Promise<void> {
    let p: Pending;
    try {
      p = await read(req);
    } catch (err) {
      res
        .status(400)
        .type('text/plain')
        .send(`SAML request refused: ${(err as Error).message}`);
      return;
    }
    const session = sessions.find(req);
    if (session && (!p.forceAuthn || misbehave.ignoreForceAuthn)) {
      // single sign-on: no login page, the person of the session at the time they logged in
      await respond(res, p, 'login', session.user, session.authnInstant);
      return;
    }
    for (const [t, v] of pending) if (v.expires < Date.now()) pending.delete(t);
    const ticket = randomBytes(16).toString('hex');
    pending.set(ticket, p);
    res.type('html').send(loginPage(ticket));
  }

  function attributesFor(user: TestUser, requested: RequestedAttribute[] | undefined): Record<string, string[]> {
    const country = user.country ?? 'LV';
    const code =
      mapping.personal_code.format === 'eidas'
        ? `${country}/LV/${user.personalCode}`
        : mapping.personal_code.format === 'etsi'
          ? `PNO${country}-${user.personalCode}`
          : user.personalCode;
    const all: Record<string, string[]> = {
      [mapping.given_name]: [user.givenName],
      [mapping.family_name]: [user.familyName],
      [mapping.personal_code.name]: [code],
    };
    if (eidasProfile && user.dateOfBirth) all[`${EIDAS_NATURAL_PERSON}DateOfBirth`] = [user.dateOfBirth];
    // an eIDAS node releases what was requested, nothing more
    if (!eidasProfile || !requested) return all;
    const wanted = new Set(requested.map((a) => a.name));
    return Object.fromEntries(Object.entries(all).filter(([name]) => wanted.has(name)));
  }

  async function login(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, string>;
    const p = typeof body.ticket === 'string' ? pending.get(body.ticket) : undefined;
    if (!p || p.expires < Date.now()) {
      res.status(400).type('text/plain').send('unknown or expired login');
      return;
    }
    pending.delete(body.ticket!);
    const user = users[Number(body.user ?? 0)] ? Number(body.user ?? 0) : 0;
    const authnInstant = clock();
    if (body.action !== 'cancel') sessions.start(res, { user, authnInstant });
    await respond(res, p, body.action === 'cancel' ? 'cancel' : 'login', user, authnInstant);
  }

  async function respond(
    res: Response,
    p: Pending,
    action: 'login' | 'cancel',
    userIndex: number,
    authnInstant: number,
  ): Promise<void> {
    const trusted = await sp();
    const base = {
      idpEntityId: entityId,
      spEntityId: trusted.entityId,
      acsUrl: p.acsUrl,
      inResponseTo: p.requestId,
      now: clock(),
    };
    let spec: Parameters<typeof issueResponse>[0];
    if (action === 'cancel') {
      // what an eIDAS node sends when the citizen cancels or refuses consent
      spec = {
        ...base,
        status: {
          code: `${STATUS}Responder`,
          subCode: `${STATUS}RequestDenied`,
          message: 'Citizen consent not given.',
        },
      };
    } else if (p.minimumLoa && loaRank(loa) < loaRank(p.minimumLoa)) {
      spec = { ...base, status: { code: `${STATUS}Responder`, subCode: `${STATUS}NoAuthnContext` } };
    } else {
      spec = {
        ...base,
        authnInstant,
        classRef: LOA_URI[loa],
        attributes: attributesFor(users[userIndex] ?? users[0]!, p.requested),
      };
    }
    if (options.encryptAssertions && !trusted.encryptionCert)
      throw new Error('test IdP: encryptAssertions needs the SP encryption certificate');
    const xml = await issueResponse(spec, {
      key,
      signResponse: options.signResponse ?? true,
      signAssertion: options.signAssertion ?? true,
      encryptFor: options.encryptAssertions ? trusted.encryptionCert : undefined,
    });
    const fields: Record<string, string> = { SAMLResponse: Buffer.from(xml, 'utf8').toString('base64') };
    if (p.relayState !== undefined) fields.RelayState = p.relayState;
    const cspNonce = res.locals.cspNonce;
    res.type('html').send(autoPostForm(p.acsUrl, fields, typeof cspNonce === 'string' ? cspNonce : undefined));
  }

  function metadata(o: IdpMetadataOptions = {}): string {
    const doc = new DOMImplementation().createDocument(NS.md, 'md:EntityDescriptor', null);
    const ed = doc.documentElement!;
    ed.setAttribute('ID', `_${randomBytes(16).toString('hex')}`);
    ed.setAttribute('entityID', entityId);
    const validUntil = o.validUntil === undefined ? new Date(Date.now() + 86_400_000) : o.validUntil;
    if (validUntil) ed.setAttribute('validUntil', validUntil.toISOString());
    const idp = doc.createElementNS(NS.md, 'md:IDPSSODescriptor');
    idp.setAttribute('protocolSupportEnumeration', 'urn:oasis:names:tc:SAML:2.0:protocol');
    idp.setAttribute('WantAuthnRequestsSigned', 'true');
    const kd = doc.createElementNS(NS.md, 'md:KeyDescriptor');
    kd.setAttribute('use', 'signing');
    const ki = doc.createElementNS(NS.ds, 'ds:KeyInfo');
    const xd = doc.createElementNS(NS.ds, 'ds:X509Data');
    const xc = doc.createElementNS(NS.ds, 'ds:X509Certificate');
    xc.appendChild(doc.createTextNode(key.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s/g, '')));
    xd.appendChild(xc);
    ki.appendChild(xd);
    kd.appendChild(ki);
    idp.appendChild(kd);
    for (const binding of ['HTTP-Redirect', 'HTTP-POST']) {
      const s = doc.createElementNS(NS.md, 'md:SingleSignOnService');
      s.setAttribute('Binding', `urn:oasis:names:tc:SAML:2.0:bindings:${binding}`);
      s.setAttribute('Location', ssoUrl);
      idp.appendChild(s);
    }
    ed.appendChild(idp);
    const xml = new XMLSerializer().serializeToString(doc);
    return o.sign === false ? xml : signMetadata(xml, key);
  }

  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '200kb' });
  const wrap = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response) => {
    fn(req, res).catch((err: unknown) =>
      res
        .status(500)
        .type('text/plain')
        .send(`test IdP error: ${(err as Error).message}`),
    );
  };
  router.get('/metadata', (_req, res) => {
    res.type('application/samlmetadata+xml').send(metadata());
  });
  router.get(
    '/sso',
    wrap((req, res) => sso(req, res, fromRedirect)),
  );
  router.post(
    '/sso',
    form,
    wrap((req, res) => sso(req, res, fromPost)),
  );
  router.post('/login', form, wrap(login));

  return {
    entityId,
    ssoUrl,
    metadataUrl: `${baseUrl}/metadata`,
    key,
    router,
    metadata,
    misbehave,
    ageSessions: (seconds) => sessions.age(seconds),
  };
}

export interface RunningTestIdp extends TestIdp {
  url: string;
  close(): Promise<void>;
}

/** Start the test IdP on a loopback port. */
export async function startTestIdp(
  options: Omit<TestIdpOptions, 'baseUrl'> & { port?: number },
): Promise<RunningTestIdp> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp = await createTestIdp({ ...options, baseUrl: url });
  app.use(idp.router);
  return {
    ...idp,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

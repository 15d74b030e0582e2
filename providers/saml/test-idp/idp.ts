// The test IdP's routes: GET /metadata, /sso by HTTP-Redirect or HTTP-POST (answered at once from the
// browser's single sign-on session unless ForceAuthn="true", else the login page), and POST /login.
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { generateKeyPair, type KeyPair } from '../keys.ts';
import { responder } from './answer.ts';
import { authnRequestReaders, type Pending, type RequestReader } from './authn-request.ts';
import { idpMetadata } from './metadata.ts';
import { DEFAULT_TEST_USERS, type IdpMetadataOptions, type TestIdpOptions } from './options.ts';
import { loginPage } from './pages.ts';
import { IdpSessions } from './session.ts';

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

export async function createTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
  const key = options.key ?? (await generateKeyPair('test SAML IdP'));
  const entityId = options.entityId ?? `${baseUrl}/metadata`;
  const ssoUrl = `${baseUrl}/sso`;
  const users = options.users ?? DEFAULT_TEST_USERS;
  const pending = new Map<string, Pending>();
  const sp = async () => (typeof options.sp === 'function' ? options.sp() : options.sp);
  const eidasProfile = (options.profile ?? 'eidas') === 'eidas';
  const requireEidas = options.requireEidasExtensions ?? eidasProfile;
  const sessions = new IdpSessions(new URL(baseUrl || 'http://x').pathname.replace(/\/+$/, ''));
  const misbehave = { ignoreForceAuthn: options.ignoreForceAuthn ?? false, clockOffsetSeconds: 0 };
  const clock = () => Date.now() + misbehave.clockOffsetSeconds * 1000;
  const { fromRedirect, fromPost } = authnRequestReaders({ ssoUrl, sp, requireEidas });
  const respond = responder(options, { entityId, key, users, sp, clock });

  async function sso(req: Request, res: Response, read: RequestReader): Promise<void> {
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
    res.type('html').send(loginPage(baseUrl, users, ticket));
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

  const metadata = (o: IdpMetadataOptions = {}) => idpMetadata({ entityId, ssoUrl, key }, o);

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

// A test OpenID provider playing an eID (eParaksts-like): node-oidc-provider 9 over HTTPS with a
// development CA (so the real TLS path is exercised), PKCE, PAR, signed request objects, encrypted ID
// tokens and userinfo, tls_client_auth, and a small login page whose user, acr and amr the caller picks.
// Tests can rewrite the token or userinfo response (`op.tamper`) to hand the gateway hostile tokens
// that still travel the real protocol. createTestOpProvider() builds the same OP without a server, for
// mounting under a path prefix in another Express app (the demo). Never part of a production start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import Provider, { type ClientMetadata, type KoaContextWithOIDC } from 'oidc-provider';
import { createCa, issueCertificate } from '../../../src/tls/pki.ts';
import { TestBrowser } from './browser.ts';
import { memoryStorage } from './storage.ts';

export interface TestUser {
  given_name?: string;
  family_name?: string;
  /** semantics identifier, e.g. PNOLV-010180-15097 */
  serial_number?: string;
  [claim: string]: unknown;
}

/** Test users: one valid person, one without a personal code, one with an invalid one. */
export const TEST_USERS: Record<string, TestUser> = {
  valid: { given_name: 'Jānis', family_name: 'Bērziņš', serial_number: 'PNOLV-010180-15097' },
  estonian: { given_name: 'Mari', family_name: 'Maasikas', serial_number: 'PNOEE-60001019906' },
  nocode: { given_name: 'Anna', family_name: 'Liepa' },
  badcode: { given_name: 'Pēteris', family_name: 'Kalniņš', serial_number: 'PNOLV-123456-12345' },
};

export const EIDAS = {
  low: 'http://eidas.europa.eu/LoA/low',
  substantial: 'http://eidas.europa.eu/LoA/substantial',
  high: 'http://eidas.europa.eu/LoA/high',
} as const;

/** Rewrites of the OP's own answers; each gets the genuine one and returns what the gateway receives. */
export interface Tamper {
  /** the token endpoint's `id_token` (given the genuine ID token's claims and the OP's private signing key) */
  idToken?: (claims: JWTPayload, opKey: JWK) => Promise<string> | string;
  /** the userinfo JSON */
  userinfo?: (claims: Record<string, unknown>) => Record<string, unknown>;
  /** the published JWKS (key rotation) */
  jwks?: () => { keys: JWK[] };
  /** replace the whole token endpoint answer with an error status */
  tokenError?: { status: number; body: Record<string, unknown> };
  /** ignore prompt=login and max_age=0 (as a lax eID does): answer from an existing single sign-on session
   * up to a day old without asking the person, still reporting that session's auth_time */
  ignoreFreshness?: boolean;
}

export interface TestOpOptions {
  /** clients registered at the OP (redirect_uris must hold the gateway's callback URL); more via addClient() */
  clients?: ClientMetadata[];
  /** default true: HTTPS with a freshly made development CA */
  https?: boolean;
  users?: Record<string, TestUser>;
  host?: string;
  port?: number;
}

export interface LoginChoice {
  /** a key of the users table (default `valid`) */
  user?: string;
  acr?: string;
  amr?: string[];
  /** answer with this error instead of logging in */
  error?: { error: string; error_description?: string };
}

export interface TestOp {
  issuer: string;
  /** TLS material for the gateway's provider `tls` block (files), and the CA in PEM */
  tls?: { ca: string; cert: string; key: string; caPem: string; clientSubjectDn: string };
  /** the OP's private signing JWK (tests forge tokens with it) and its public JWKS */
  signingKey: JWK;
  jwks: { keys: JWK[] };
  tamper: Tamper;
  provider: Provider;
  /** Register (or replace) a client, e.g. once the gateway's callback URL is known. */
  addClient(metadata: ClientMetadata): void;
  /** Move the login of every single sign-on session this many seconds into the past. */
  ageSessions(seconds: number): void;
  /** Follow an authorization URL as a browser, log in (or fail) as chosen; returns the redirect back to the
   * client. A fresh browser each time, unless `keepSession` (the previous call's browser, with its OP session). */
  login(authorizationUrl: string, choice?: LoginChoice, o?: { keepSession?: boolean }): Promise<URL>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      data += chunk;
      if (data.length > 10_000) req.destroy(new Error('body too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(data)));
    req.on('error', reject);
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(interactionPath: string, users: Record<string, TestUser>, acrValues: string[]): string {
  const options = Object.entries(users)
    .map(
      ([id, u]) =>
        `<option value="${escapeHtml(id)}">${escapeHtml(`${u.given_name ?? '?'} ${u.family_name ?? '?'} (${id})`)}</option>`,
    )
    .join('');
  const acrs = acrValues.map((a) => `<option value="${escapeHtml(a)}">${escapeHtml(a)}</option>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test eID</title></head><body>
<h1>Test eID provider</h1>
<form method="post" action="${escapeHtml(interactionPath)}/login">
<label>Person <select name="user">${options}</select></label>
<label>Level <select name="acr">${acrs}</select></label>
<input type="hidden" name="amr" value="smart_card">
<button type="submit">Log in</button></form>
<form method="post" action="${escapeHtml(interactionPath)}/abort"><input type="hidden" name="error" value="user_cancel"><button type="submit">Cancel</button></form>
</body></html>`;
}

export interface TestOpProviderOptions {
  /** the OP's issuer; a path (`http://host/demo/oidc-eid`) means it is mounted under that prefix */
  issuer: string;
  /** served live: entries added later are seen */
  clients: Map<string, ClientMetadata>;
  users?: Record<string, TestUser>;
  /** offer tls_client_auth (the OP must then be served over HTTPS that requests client certificates) */
  mtls?: boolean;
}

/** The Provider with its login page, ready to serve from any server: `handle(req, res)` takes paths below the issuer. */
export interface TestOpProvider {
  provider: Provider;
  signingKey: JWK;
  jwks: { keys: JWK[] };
  tamper: Tamper;
  /** a Node request listener; under Express `app.use(prefix, op.handle)` (Express strips the prefix) */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Move the login of every single sign-on session this many seconds into the past. */
  ageSessions(seconds: number): void;
}

/**
 * Build the test OP without a server, e.g. to mount it in another program's Express app (the demo mounts
 * it in the gateway under /demo/oidc-eid). startTestOp() builds on this with its own HTTP(S) server.
 */
export async function createTestOpProvider(options: TestOpProviderOptions): Promise<TestOpProvider> {
  const { issuer, clients } = options;
  const users = options.users ?? TEST_USERS;
  const useMtls = options.mtls ?? false;
  // the path prefix the OP is mounted under ('' when it owns its origin); its own links must carry it
  const prefix = new URL(issuer).pathname.replace(/\/+$/, '');

  const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const signingKey = await exportJWK(privateKey);
  signingKey.kid = await calculateJwkThumbprint(signingKey);
  signingKey.use = 'sig';
  const ecKey = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
  ecKey.kid = await calculateJwkThumbprint(ecKey);
  ecKey.use = 'sig';
  const publicOf = ({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }: JWK) => pub;
  const acrValues = [EIDAS.high, EIDAS.substantial, EIDAS.low, 'urn:test:unmapped'];
  // Mounted on another OIDC provider's host (the gateway's engine uses the default cookie names at
  // path /), the OP's cookies get their own names and stay under its prefix so neither clobbers the other.
  const cookies = prefix
    ? {
        names: { session: '_test_eid_session', interaction: '_test_eid_interaction', resume: '_test_eid_resume' },
        long: { httpOnly: true, sameSite: 'lax' as const, path: prefix },
        short: { httpOnly: true, sameSite: 'lax' as const, path: prefix },
      }
    : {};

  const storage = memoryStorage(clients);
  const provider = new Provider(issuer, {
    adapter: storage,
    jwks: { keys: [signingKey, ecKey] },
    cookies: { keys: ['test-op-cookie-key-0123456789abcdef'], ...cookies },
    acrValues,
    scopes: ['openid', 'profile', 'eid'],
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time'],
      profile: ['given_name', 'family_name'],
      eid: ['serial_number'],
      acr: null,
      amr: null,
    },
    // eParaksts-like: the ID token itself carries the person
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    clientAuthMethods: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      ...(useMtls ? ['tls_client_auth' as const] : []),
    ],
    findAccount: (_ctx, id) => {
      const user = users[id];
      if (!user) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...user }) };
    },
    interactions: { url: (_ctx, interaction) => `${prefix}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      encryption: { enabled: true },
      jwtUserinfo: { enabled: true },
      requestObjects: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
      mTLS: {
        enabled: useMtls,
        tlsClientAuth: true,
        getCertificate: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).getPeerX509Certificate?.(),
        certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).authorized === true,
        certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) => {
          if (property !== 'tls_client_auth_subject_dn') return false;
          const subject = (ctx.req.socket as TLSSocket).getPeerX509Certificate?.()?.subject;
          // node prints the DN one attribute per line, most significant last as issued: compare as sets
          const norm = (dn: string) =>
            dn
              .split(/[\n,]/)
              .map((s) => s.trim())
              .filter(Boolean)
              .sort()
              .join(',');
          return subject !== undefined && norm(subject) === norm(expected);
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      requestObjectSigningAlgValues: ['PS256', 'RS256', 'ES256'],
      clientAuthSigningAlgValues: ['PS256', 'RS256', 'ES256'],
      idTokenEncryptionAlgValues: ['RSA-OAEP-256', 'RSA-OAEP', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'],
      idTokenEncryptionEncValues: ['A256GCM', 'A128GCM', 'A128CBC-HS256'],
      userinfoEncryptionAlgValues: ['RSA-OAEP-256', 'RSA-OAEP', 'ECDH-ES'],
      userinfoEncryptionEncValues: ['A256GCM', 'A128GCM', 'A128CBC-HS256'],
    },
    ttl: {
      AccessToken: 600,
      AuthorizationCode: 60,
      IdToken: 600,
      Interaction: 600,
      Session: 600,
      Grant: 600,
      PushedAuthorizationRequest: 60,
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><p>${escapeHtml(String(out.error))}: ${escapeHtml(String(out.error_description ?? ''))}</p>`;
    },
  });
  if (useMtls) provider.proxy = false;

  const tamper: Tamper = {};
  provider.use(async (ctx, next) => {
    if (ctx.path === '/token' && ctx.method === 'POST' && tamper.tokenError) {
      ctx.status = tamper.tokenError.status;
      ctx.body = tamper.tokenError.body;
      return;
    }
    if (ctx.path === '/jwks' && tamper.jwks) {
      ctx.type = 'application/jwk-set+json';
      ctx.body = tamper.jwks();
      return;
    }
    if (ctx.path === '/auth' && ctx.method === 'GET' && tamper.ignoreFreshness) {
      // the session is reused as long as max_age allows, and max_age keeps auth_time in the ID token
      const query = new URLSearchParams(ctx.querystring);
      query.delete('prompt');
      if (query.has('max_age')) query.set('max_age', '86400');
      ctx.querystring = query.toString();
    }
    await next();
    if (ctx.path === '/token' && ctx.status === 200 && tamper.idToken) {
      const body = ctx.body as { id_token?: string };
      if (body.id_token) ctx.body = { ...body, id_token: await tamper.idToken(decodeJwt(body.id_token), signingKey) };
    }
    if (ctx.path === '/me' && ctx.status === 200 && tamper.userinfo && typeof ctx.body === 'object') {
      ctx.body = tamper.userinfo(ctx.body as Record<string, unknown>);
    }
  });

  const oidcCallback = provider.callback();
  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(path);
    if (!match) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    const [, uid, action] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (!action && req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(loginPage(`${prefix}/interaction/${uid!}`, users, acrValues));
      return;
    }
    if (req.method !== 'POST') {
      res.statusCode = 405;
      res.end();
      return;
    }
    const form = await readBody(req);
    if (action === 'abort') {
      const error = form.get('error') || 'access_denied';
      const description = form.get('error_description');
      await provider.interactionFinished(
        req,
        res,
        { error, ...(description ? { error_description: description } : {}) },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    const accountId = form.get('user') ?? 'valid';
    if (!users[accountId]) {
      res.statusCode = 400;
      res.end('unknown test user');
      return;
    }
    const params = details.params as { client_id: string; scope?: string };
    const grant = new provider.Grant({ accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope ?? 'openid');
    const grantId = await grant.save();
    const acr = form.get('acr') || EIDAS.high;
    const amr = form.getAll('amr').filter(Boolean);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId, acr, amr: amr.length ? amr : ['smart_card'] }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    provider,
    signingKey,
    jwks: { keys: [publicOf(signingKey), publicOf(ecKey)] },
    tamper,
    ageSessions: (seconds) => storage.ageSessions(seconds),
    handle(req, res) {
      // req.url is below the issuer: the standalone server owns its origin, Express strips a mount prefix
      const path = new URL(req.url ?? '/', 'http://op.invalid').pathname;
      if (path.startsWith('/interaction/')) {
        interaction(req, res, path).catch((err: unknown) => {
          if (!res.headersSent) res.statusCode = 400;
          res.end(`interaction failed: ${(err as Error).message}`);
        });
        return;
      }
      oidcCallback(req, res);
    },
  };
}

export async function startTestOp(options: TestOpOptions): Promise<TestOp> {
  const useHttps = options.https ?? true;
  const clients = new Map((options.clients ?? []).map((c) => [c.client_id, c]));
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'vpm-test-op-'));
  let tls: TestOp['tls'];
  let server: Server;
  let serverCert: { cert: string; key: string; ca: string } | undefined;
  if (useHttps) {
    const ca = await createCa({ commonName: 'VPM Test eID CA' });
    const srv = await issueCertificate(ca, {
      commonName: host,
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const gw = await issueCertificate(ca, { commonName: 'vpm-gateway', subjectSuffix: 'O=VPM Test', usage: 'client' });
    const files = {
      ca: join(dir, 'ca.pem'),
      cert: join(dir, 'gateway-client.pem'),
      key: join(dir, 'gateway-client.key'),
    };
    writeFileSync(files.ca, ca.cert);
    writeFileSync(files.cert, gw.cert);
    writeFileSync(files.key, gw.key, { mode: 0o600 });
    tls = { ...files, caPem: ca.cert, clientSubjectDn: 'CN=vpm-gateway,O=VPM Test' };
    serverCert = { cert: srv.cert, key: srv.key, ca: ca.cert };
    // client certificates are requested but optional: tls_client_auth clients need one, others not
    server = createHttpsServer({
      cert: srv.cert,
      key: srv.key,
      ca: ca.cert,
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
    });
  } else {
    server = createHttpServer();
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `${useHttps ? 'https' : 'http'}://${host}:${port}`;

  const op = await createTestOpProvider({
    issuer,
    clients,
    ...(options.users ? { users: options.users } : {}),
    mtls: useHttps,
  });
  const { provider, signingKey, jwks, tamper } = op;
  server.on('request', op.handle);

  const browser = new TestBrowser(issuer, serverCert?.ca);

  return {
    issuer,
    ...(tls ? { tls } : {}),
    signingKey,
    jwks,
    tamper,
    provider,
    addClient(metadata) {
      clients.set(metadata.client_id, metadata);
    },
    ageSessions: (seconds) => op.ageSessions(seconds),
    async login(authorizationUrl, choice = {}, o = {}) {
      return browser.authorize(authorizationUrl, choice, o);
    },
    async close() {
      await browser.close();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

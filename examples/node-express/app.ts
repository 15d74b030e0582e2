// An agency e-service that logs people in through vpm-gateway: openid-client 6 + express 5.
// Authorization code flow with PKCE (S256), state and nonce; the ID token is verified (signature with the
// gateway's JWKS, PS256 pinned, iss, aud, exp, nonce) by openid-client; userinfo is fetched with the
// access token; errors from the gateway (user_cancel, access_denied, ...) end on an error page with a
// link to try again, never in an automatic redirect; logout is RP-initiated with the ID token as hint.
import { randomBytes } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import * as client from 'openid-client';

export interface ExampleOptions {
  /** the gateway's issuer URL, e.g. https://vpm.example.gov.lv */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** this service's own base URL; the redirect URI is `${baseUrl}/callback` */
  baseUrl: string;
  /** the ID token signing algorithm registered for this client (id_token_signed_response_alg) */
  idTokenAlg?: 'PS256' | 'ES256' | 'RS256';
}

/** What the service keeps per browser: the pending login (until the callback), then the person. */
interface Session {
  pending?: { verifier: string; state: string; nonce: string; started: number };
  person?: { claims: client.IDToken; userinfo: Record<string, unknown>; idToken: string };
}

const SESSION_COOKIE = 'example_session';
/** the gateway's login state lives 10 minutes; a pending login older than that is stale */
const PENDING_TTL_MS = 10 * 60 * 1000;

/** Errors the gateway returns to the redirect URI, and what to tell the person. */
const ERROR_TEXT: Record<string, string> = {
  user_cancel: 'You cancelled the login.',
  access_denied: 'The login was refused by the identity provider, or its answer could not be verified.',
  temporarily_unavailable: 'The identity provider is temporarily unavailable. Please try again later.',
  unmet_authentication_requirements: 'The login did not reach the level of assurance this service needs.',
  login_required: 'Please log in.',
  invalid_request: 'The login request was not accepted (a configuration problem of this service).',
};

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

export async function createApp(options: ExampleOptions): Promise<express.Express> {
  const baseUrl = options.baseUrl.replace(/\/$/, '');
  const redirectUri = `${baseUrl}/callback`;
  // Discovery: /.well-known/openid-configuration under the issuer. client_secret_basic, as registered.
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    { id_token_signed_response_alg: options.idTokenAlg ?? 'PS256' },
    client.ClientSecretBasic(options.clientSecret),
  );

  // In-memory sessions keep the example short; a real service uses its own session store.
  const sessions = new Map<string, Session>();
  const sessionOf = (req: Request, res: Response): Session => {
    const id = /(?:^|;\s*)example_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? '')?.[1];
    const existing = id ? sessions.get(id) : undefined;
    if (existing) return existing;
    const fresh = randomBytes(32).toString('base64url');
    const session: Session = {};
    sessions.set(fresh, session);
    // SameSite=Lax: the cookie comes along on the gateway's top-level redirect back to /callback
    res.cookie(SESSION_COOKIE, fresh, { httpOnly: true, sameSite: 'lax', secure: baseUrl.startsWith('https:') });
    return session;
  };

  const app = express();
  app.disable('x-powered-by');

  app.get('/', (req, res) => {
    const session = sessionOf(req, res);
    if (!session.person) {
      res.send(
        page(
          'Example e-service',
          '<p><a href="/login">Log in</a> · <a href="/login?idp=demo-bank">Log in with Demo Bank</a></p>',
        ),
      );
      return;
    }
    const { claims, userinfo } = session.person;
    const rows = (o: Record<string, unknown>) =>
      Object.entries(o)
        .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(Array.isArray(v) ? v.join(' ') : String(v))}</dd>`)
        .join('');
    res.send(
      page(
        `Welcome, ${String(userinfo.given_name ?? claims.given_name ?? '')} ${String(userinfo.family_name ?? claims.family_name ?? '')}`,
        `<h2>ID token</h2><dl id="id-token">${rows(claims)}</dl><h2>Userinfo</h2><dl id="userinfo">${rows(userinfo)}</dl>` +
          '<form method="post" action="/logout"><button type="submit">Log out</button></form>',
      ),
    );
  });

  // Start a login: fresh PKCE verifier, state and nonce per attempt, kept in this browser's session.
  app.get('/login', async (req, res) => {
    const session = sessionOf(req, res);
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    session.pending = { verifier, state, nonce, started: Date.now() };
    const parameters: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: 'openid profile personal_code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ui_locales: 'en',
    };
    // Optional: go straight to one provider, and/or ask for a minimum level of assurance.
    if (typeof req.query.idp === 'string' && /^[a-z0-9-]{1,30}$/.test(req.query.idp))
      parameters.idp_hint = req.query.idp;
    if (typeof req.query.acr === 'string' && ['low', 'substantial', 'high'].includes(req.query.acr))
      parameters.acr_values = req.query.acr;
    res.redirect(client.buildAuthorizationUrl(config, parameters).href);
  });

  app.get('/callback', async (req, res) => {
    const session = sessionOf(req, res);
    const pending = session.pending;
    // single use: whatever happens below, this login attempt is over
    delete session.pending;
    if (!pending || Date.now() - pending.started > PENDING_TTL_MS) {
      res.status(400).send(page('Login failed', '<p>No login in progress.</p><p><a href="/">Back</a></p>'));
      return;
    }
    try {
      const tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, baseUrl), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      session.person = { claims, userinfo, idToken: tokens.id_token! };
      res.redirect('/');
    } catch (err) {
      // An error the gateway sent to the redirect URI (RFC 6749 §4.1.2.1): show it, do not retry by itself.
      if (err instanceof client.AuthorizationResponseError) {
        const text = ERROR_TEXT[err.error] ?? 'The login did not succeed.';
        res
          .status(err.error === 'temporarily_unavailable' ? 503 : 401)
          .send(
            page(
              'Login failed',
              `<p>${escapeHtml(text)}</p><p>Error: <code id="error">${escapeHtml(err.error)}</code></p><p><a href="/">Back to the service</a></p>`,
            ),
          );
        return;
      }
      // Anything else (a token that fails verification, state mismatch, network): a generic error.
      console.error('login failed:', (err as Error).message);
      res.status(500).send(page('Login failed', '<p>The login could not be completed.</p><p><a href="/">Back</a></p>'));
    }
  });

  // RP-initiated logout: forget the person here, then end the gateway's session with the ID token as hint.
  app.post('/logout', (req, res) => {
    const session = sessionOf(req, res);
    const person = session.person;
    delete session.person;
    if (!person) {
      res.redirect(303, '/');
      return;
    }
    const url = client.buildEndSessionUrl(config, {
      id_token_hint: person.idToken,
      post_logout_redirect_uri: `${baseUrl}/`,
    });
    res.redirect(303, url.href);
  });

  return app;
}

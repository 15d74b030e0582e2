// The demo agency service (development only): a real OpenID Connect client (openid-client) against this
// gateway, so a newcomer can log in within a minute and see the verified claims.
import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import * as oidc from 'openid-client';
import type { Store } from '../store/store.ts';
import { html, page } from './html.ts';

export interface DemoOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  store: Store;
  providers: { id: string; name: string }[];
}

const COOKIE = 'demo_rp';

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

export function demoRoutes(o: DemoOptions): Router {
  const router = express.Router();
  let configuration: Promise<oidc.Configuration> | undefined;
  const config = () => {
    configuration ??= oidc
      .discovery(new URL(o.issuer), o.clientId, o.clientSecret, oidc.ClientSecretBasic(o.clientSecret), {
        execute: o.issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  };

  router.get('/', (_req, res) => {
    const options = [
      html`<option value="">(selection page)</option>`,
      ...o.providers.map((p) => html`<option value="${p.id}">${p.name}</option>`),
    ];
    res.type('html').send(
      page(
        'Demo e-service',
        html`<h1>Demo e-service</h1>
<p>This page plays an agency service (a relying party). It logs you in through the gateway.</p>
<form method="get" action="/demo/login">
<p><label>Level of assurance <select name="acr"><option value="">(none)</option><option>low</option><option>substantial</option><option>high</option></select></label></p>
<p><label>Skip selection (idp_hint) <select name="idp">${options}</select></label></p>
<p><label>Language <select name="lang"><option value="lv">Latviešu</option><option value="en">English</option></select></label></p>
<button class="primary" type="submit">Log in / Pieslēgties</button></form>`,
        { lang: 'en' },
      ),
    );
  });

  router.get('/demo/login', async (req, res) => {
    const c = await config();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const key = randomBytes(16).toString('base64url');
    await o.store.set(`demo:${key}`, JSON.stringify({ verifier, state, nonce }), 600);
    const params: Record<string, string> = {
      redirect_uri: o.redirectUri,
      scope: 'openid profile personal_code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ui_locales: req.query.lang === 'en' ? 'en' : 'lv',
    };
    if (typeof req.query.acr === 'string' && req.query.acr) params.acr_values = req.query.acr;
    if (typeof req.query.idp === 'string' && req.query.idp) params.idp_hint = req.query.idp;
    res.setHeader('Set-Cookie', `${COOKIE}=${key}; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=600`);
    res.redirect(303, oidc.buildAuthorizationUrl(c, params).toString());
  });

  router.get('/demo/callback', async (req, res) => {
    const key = readCookie(req.headers.cookie, COOKIE);
    const saved = key ? await o.store.take(`demo:${key}`) : undefined;
    if (!saved) {
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Demo e-service',
            html`<h1>Demo e-service</h1><p class="error">No login in progress.</p><p><a href="/">Start again</a></p>`,
          ),
        );
      return;
    }
    const { verifier, state, nonce } = JSON.parse(saved) as { verifier: string; state: string; nonce: string };
    const current = new URL(req.originalUrl, o.redirectUri);
    if (current.searchParams.has('error')) {
      res
        .type('html')
        .send(
          page(
            'Demo e-service',
            html`<h1>Demo e-service</h1><p class="error">The gateway answered <code>${current.searchParams.get('error')}</code>: ${current.searchParams.get('error_description') ?? ''}</p><p><a href="/">Start again</a></p>`,
          ),
        );
      return;
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(await config(), current, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      const rows = Object.entries(claims).map(
        ([k, v]) => html`<dt>${k}</dt><dd>${Array.isArray(v) ? v.join(' ') : String(v)}</dd>`,
      );
      const logout = oidc.buildEndSessionUrl(await config(), {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: o.postLogoutRedirectUri,
      });
      res.type('html').send(
        page(
          'Demo e-service',
          html`<h1>Welcome, ${String(claims.given_name ?? '')} ${String(claims.family_name ?? '')}</h1>
<p>The gateway returned this verified ID token (signature checked against its JWKS):</p><dl>${rows}</dl>
<p><a class="button" href="/">Log in again</a> <a class="button" href="${logout.toString()}">Log out</a></p>`,
          { lang: 'en' },
        ),
      );
    } catch (err) {
      res
        .status(400)
        .type('html')
        .send(
          page(
            'Demo e-service',
            html`<h1>Demo e-service</h1><p class="error">Login failed: ${(err as Error).message}</p><p><a href="/">Start again</a></p>`,
          ),
        );
    }
  });
  return router;
}

// The demo agency service (development only): a real OpenID Connect client (openid-client) against this
// gateway, so a newcomer can log in within a minute and see the verified claims.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCookie } from 'cookie';
import express, { type Response, type Router } from 'express';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Store } from '../store/store.ts';
import type { GatewayConfig } from '../config/load.ts';
import type { ProviderPolicy } from '../login/policy.ts';
import { isUiLocale } from '../login/locale.ts';
import { html, page, type Html } from './html.ts';
import { cameForAnotherHost } from './issuer-host.ts';

export interface DemoOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  store: Store;
  providers: { id: string; name: string }[];
  /** server.tls.cert: over https the demo's back channel to its own gateway trusts exactly this certificate */
  serverCertificate?: string | undefined;
}

/**
 * The demo e-service calls its own gateway (discovery, token, userinfo). Over https (server.tls, e.g. the
 * development PKI) it trusts the certificate the gateway serves, taken as a trust anchor as it is (no CA
 * needed, nothing added to the process's trust store); over http it allows plain http.
 */
function backChannel(options: DemoOptions): Pick<oidc.DiscoveryRequestOptions, 'execute' | typeof oidc.customFetch> {
  if (options.issuer.startsWith('http:')) return { execute: [oidc.allowInsecureRequests] };
  if (!options.serverCertificate) return {};
  const dispatcher = new Agent({
    connect: { ca: readFileSync(options.serverCertificate), allowPartialTrustChain: true } as Agent.Options['connect'],
  });
  return {
    [oidc.customFetch]: (url, init) =>
      undiciFetch(url, { ...init, dispatcher } as Parameters<
        typeof undiciFetch
      >[1]) as unknown as Promise<globalThis.Response>,
  };
}

/** The demo e-service's routes as the configuration asks for them (`demo`), or undefined when it is off. */
export function demoRoutesOf(
  config: GatewayConfig,
  store: Store,
  policy: Pick<ProviderPolicy, 'all'>,
): Router | undefined {
  const client = config.demo.enabled ? config.clients.find((c) => c.client_id === config.demo.client_id) : undefined;
  if (!client) return undefined;
  const baseUrl = config.issuer.replace(/\/$/, '');
  return demoRoutes({
    issuer: config.issuer,
    clientId: client.client_id,
    clientSecret: client.client_secret ?? '',
    redirectUri: client.redirect_uris[0]!,
    postLogoutRedirectUri: client.post_logout_redirect_uris[0] ?? `${baseUrl}/`,
    store,
    providers: policy.all().map(({ id, name }) => ({ id, name: name.en })),
    serverCertificate: config.server?.tls?.cert,
  });
}

const COOKIE = 'demo_rp';

/** The demo's own failure page, with the way to start again. */
function sendFailure(res: Response, status: number, message: Html): void {
  res
    .status(status)
    .type('html')
    .send(
      page(
        'Demo e-service',
        html`<h1>Demo e-service</h1><p class="error">${message}</p><p><a href="/">Start again</a></p>`,
      ),
    );
}

export function demoRoutes(options: DemoOptions): Router {
  const router = express.Router();
  let configuration: Promise<oidc.Configuration> | undefined;
  const trust = backChannel(options);
  const config = () => {
    configuration ??= oidc
      .discovery(
        new URL(options.issuer),
        options.clientId,
        options.clientSecret,
        oidc.ClientSecretBasic(options.clientSecret),
        trust,
      )
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  };

  router.get('/', (_req, res) => {
    const choices = [
      html`<option value="">(selection page)</option>`,
      ...options.providers.map((p) => html`<option value="${p.id}">${p.name}</option>`),
    ];
    res.type('html').send(
      page(
        'Demo e-service',
        html`<h1>Demo e-service</h1>
<p>This page plays an agency service (a relying party). It logs you in through the gateway.</p>
<form method="get" action="/demo/login">
<p><label>Level of assurance <select name="acr"><option value="">(none)</option><option>low</option><option>substantial</option><option>high</option></select></label></p>
<p><label>Skip selection (idp_hint) <select name="idp">${choices}</select></label></p>
<p><label>Language <select name="lang"><option value="">(browser language)</option><option value="lv">Latviešu</option><option value="en">English</option><option value="ru">Русский</option></select></label></p>
<button class="primary" type="submit">Log in / Pieslēgties</button></form>`,
        { lang: 'en' },
      ),
    );
  });

  // the privacy notice the demo's footer links to (config ui.privacy_url); a real one is the operator's
  router.get('/demo/privacy', (_req, res) => {
    res.type('html').send(
      page(
        'Privacy notice (demo)',
        html`<h1>Privacy notice (demo)</h1>
<p>This demonstration gateway runs on your machine. It keeps the people it logs in only for the session,
and writes each login to its signed audit log under <code>var/audit</code> with personal codes hashed.</p>
<p>An operator publishes its own notice (GDPR Article 13) and sets <code>ui.privacy_url</code> to it.</p>
<p><a href="/">Back to the demo e-service</a></p>`,
        { lang: 'en' },
      ),
    );
  });

  router.get('/demo/login', async (req, res) => {
    // the demo opened as 127.0.0.1 instead of localhost: its state cookie must be set on the issuer's host,
    // where the gateway sends the browser back (the redirect URI), so the login begins there
    if (cameForAnotherHost(res)) {
      const query = req.originalUrl.indexOf('?');
      res.redirect(
        303,
        `${options.issuer.replace(/\/$/, '')}/demo/login${query < 0 ? '' : req.originalUrl.slice(query)}`,
      );
      return;
    }
    const client = await config();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const key = randomBytes(16).toString('base64url');
    await options.store.set(`demo:${key}`, JSON.stringify({ verifier, state, nonce }), 600);
    const params: Record<string, string> = {
      redirect_uri: options.redirectUri,
      scope: 'openid profile personal_code',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    // no language chosen: the gateway follows the browser's Accept-Language
    if (isUiLocale(req.query.lang)) params.ui_locales = req.query.lang;
    if (typeof req.query.acr === 'string' && req.query.acr) params.acr_values = req.query.acr;
    if (typeof req.query.idp === 'string' && req.query.idp) params.idp_hint = req.query.idp;
    res.setHeader('Set-Cookie', `${COOKIE}=${key}; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=600`);
    res.redirect(303, oidc.buildAuthorizationUrl(client, params).toString());
  });

  router.get('/demo/callback', async (req, res) => {
    const key = parseCookie(req.headers.cookie ?? '')[COOKIE];
    const saved = key ? await options.store.take(`demo:${key}`) : undefined;
    if (!saved) {
      sendFailure(res, 400, html`No login in progress.`);
      return;
    }
    const { verifier, state, nonce } = JSON.parse(saved) as { verifier: string; state: string; nonce: string };
    const current = new URL(req.originalUrl, options.redirectUri);
    if (current.searchParams.has('error')) {
      const error = current.searchParams.get('error');
      const description = current.searchParams.get('error_description') ?? '';
      sendFailure(res, 200, html`The gateway answered <code>${error}</code>: ${description}`);
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
      // by client_id, not id_token_hint: the ID token carries the personal code, and this is a GET URL
      // (browser history, access logs); the gateway then asks the user to confirm
      const logout = oidc.buildEndSessionUrl(await config(), {
        post_logout_redirect_uri: options.postLogoutRedirectUri,
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
      sendFailure(res, 400, html`Login failed: ${(err as Error).message}`);
    }
  });
  return router;
}

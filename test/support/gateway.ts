// Starts the whole gateway for end-to-end tests: real HTTP on 127.0.0.1, the real config loader, real
// signing keys, and a real OpenID Connect client library (openid-client) playing the agency service.
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import * as oidc from 'openid-client';
import { parseConfig, type GatewayConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.ts';
import { MemoryAuditLog, type AuditEvent } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { Browser, type Hop } from './browser.ts';
import { MOCK_BANK, MOCK_PROVIDER } from './provider-entries.ts';

export { MOCK_BANK, MOCK_PROVIDER };

export const RP_REDIRECT = 'https://rp.example.test/cb';
export const RP_SECRET = 'rp-secret-0123456789-0123456789-abcdef';

/** Keys are generated once per test process (RSA generation is slow) and shared by its gateways. */
const keyDir = mkdtempSync(join(tmpdir(), 'vpm-keys-'));

export interface TestGatewayOptions extends GatewayOptions {
  /** raw provider entries as they would stand in the YAML file (default: MOCK_PROVIDER, MOCK_BANK) */
  providers?: Record<string, unknown>[];
  /** extra raw client entries; the default client `rp` is always there */
  clients?: Record<string, unknown>[];
  /** other top-level settings (store, ttl, audit...) */
  settings?: Record<string, unknown>;
}

type RecordedEvent = MemoryAuditLog['events'][number];

/**
 * The memory audit log, to be waited on: `recorded(match)` resolves with the first event, recorded already
 * or still to come, that `match`es (for events the gateway records after its response, e.g. tokens_issued).
 */
export class WatchedAuditLog extends MemoryAuditLog {
  private waiters: { match: (e: RecordedEvent) => boolean; resolve: (e: RecordedEvent) => void }[] = [];

  override async record(event: AuditEvent): Promise<void> {
    await super.record(event);
    const stored = this.events.at(-1)!;
    const ready = this.waiters.filter((w) => w.match(stored));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(stored);
  }

  recorded(match: (e: RecordedEvent) => boolean): Promise<RecordedEvent> {
    const seen = this.events.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

export interface TestGateway {
  gateway: Gateway;
  config: GatewayConfig;
  issuer: string;
  audit: Gateway['audit'];
  logLines: string[];
  close(): Promise<void>;
}

export async function startGateway(options: TestGatewayOptions = {}): Promise<TestGateway> {
  let handler: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const raw = {
    issuer,
    keys: { dir: keyDir },
    log_level: 'debug',
    clients: [
      {
        client_id: 'rp',
        client_name: 'Test e-service',
        client_secret: RP_SECRET,
        redirect_uris: [RP_REDIRECT],
        post_logout_redirect_uris: ['https://rp.example.test/bye'],
      },
      ...(options.clients ?? []),
    ],
    providers: options.providers ?? [MOCK_PROVIDER, MOCK_BANK],
    ...options.settings,
  };
  const logger = options.logger ?? memoryLogger();
  let config: GatewayConfig;
  let gateway: Gateway;
  try {
    config = parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} });
    gateway = await createGateway(config, { ...options, logger, audit: options.audit ?? new MemoryAuditLog() });
  } catch (err) {
    server.close();
    throw err;
  }
  handler = gateway.app;
  gateway.warmUp();
  return {
    gateway,
    config,
    issuer,
    audit: gateway.audit,
    logLines: (logger as { lines?: string[] }).lines ?? [],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.close();
    },
  };
}

/** A gateway for the tests of one file (or one describe block), with what they share. */
export interface GatewayInUse extends TestGateway {
  /** openid-client configuration of the default client `rp` */
  readonly rp: oidc.Configuration;
  /** a temporary directory for the tests' files (keys, certificates), removed after all */
  readonly dir: string;
}

export interface GatewaySetUp {
  /** the temporary directory, made before the options are asked for */
  dir: string;
  /** `close` runs after all, once the gateway is closed (later registrations first): the tests' upstreams */
  cleanup(close: () => unknown): void;
}

/**
 * Registers, in the current describe block, the set-up every whole-gateway test file repeats: beforeAll makes
 * a temporary directory, starts the gateway (options as given, or from `options(setUp)`, which may start the
 * upstreams first) and discovers it as the agency service `rp`; afterAll closes the gateway, then what was
 * given to `cleanup`, and removes the directory. The returned handle reads through to the running gateway
 * (its properties throw before beforeAll has run). A later beforeAll may use it, e.g. to register the
 * gateway's callback URLs at an upstream.
 */
export function useGateway(
  options: TestGatewayOptions | ((setUp: GatewaySetUp) => TestGatewayOptions | Promise<TestGatewayOptions>) = {},
): GatewayInUse {
  let dir: string | undefined;
  let started: TestGateway | undefined;
  let rp: oidc.Configuration | undefined;
  const closers: (() => unknown)[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-gateway-test-'));
    const resolved =
      typeof options === 'function' ? await options({ dir, cleanup: (close) => closers.push(close) }) : options;
    started = await startGateway(resolved);
    rp = await rpConfig(started.issuer);
  });
  afterAll(async () => {
    await started?.close();
    for (const close of closers.reverse()) await close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const running = (): TestGateway => {
    if (!started) throw new Error('gateway not started (useGateway() is read in tests and hooks, after its beforeAll)');
    return started;
  };
  return {
    get gateway() {
      return running().gateway;
    },
    get config() {
      return running().config;
    },
    get issuer() {
      return running().issuer;
    },
    get audit() {
      return running().audit;
    },
    get logLines() {
      return running().logLines;
    },
    get rp() {
      running();
      return rp!;
    },
    get dir() {
      running();
      return dir!;
    },
    close: () => running().close(),
  };
}

/** openid-client configuration for a client of the gateway (discovery over real HTTP). A secret goes by
 * client_secret_basic (the gateway's default method, and only the registered method is accepted) unless
 * `auth` says otherwise; openid-client alone would send it in the body. */
export async function rpConfig(
  issuer: string,
  clientId = 'rp',
  secret: string | undefined = RP_SECRET,
  auth?: oidc.ClientAuth,
  metadata: Partial<oidc.ClientMetadata> = {},
): Promise<oidc.Configuration> {
  return oidc.discovery(
    new URL(issuer),
    clientId,
    { ...metadata, ...(secret ? { client_secret: secret } : {}) },
    auth ?? (secret ? oidc.ClientSecretBasic(secret) : undefined),
    { execute: [oidc.allowInsecureRequests] },
  );
}

/**
 * A token request with a made-up code from `clientId` at `base` (the issuer, or another listener's origin):
 * client authentication runs first, so the error tells whether it passed (invalid_grant: authenticated;
 * invalid_client: refused). `fetchImpl` brings the transport (a client certificate, a terminator's headers).
 */
export async function tokenEndpointVerdict(
  base: string,
  clientId: string,
  fetchImpl: (url: string, init: RequestInit) => Promise<Response>,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetchImpl(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'not-a-real-code',
      redirect_uri: RP_REDIRECT,
      code_verifier: 'x'.repeat(43),
      client_id: clientId,
    }).toString(),
  });
  return ((await res.json()) as { error: string }).error;
}

export interface StartedLogin {
  browser: Browser;
  verifier: string;
  state: string;
  nonce: string;
  /** the first hop after the authorization request (a redirect to the interaction, or an error) */
  hop: Hop;
}

/** The agency service sends the browser to the gateway with PKCE, state and nonce. */
export async function beginLogin(
  config: oidc.Configuration,
  params: Record<string, string> = {},
  browser = new Browser(),
): Promise<StartedLogin> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: RP_REDIRECT,
    scope: 'openid profile personal_code',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const hop = await browser.get(url.toString());
  return { browser, verifier, state, nonce, hop };
}

export const atRp = (hop: Hop) => !!hop.location?.startsWith(RP_REDIRECT);

/** Choose a provider on the selection page (as the user's click would). */
export async function chooseProvider(browser: Browser, interactionUrl: string, providerId: string): Promise<Hop> {
  const url = new URL(interactionUrl);
  return browser.post(`${url.origin}${url.pathname}/provider`, { provider: providerId });
}

/** Act as the user at the mock provider: pick test user `index` (or cancel). */
export async function mockProviderLogin(
  browser: Browser,
  authorizeHop: Hop,
  user: number | 'cancel' | 'outage',
): Promise<Hop> {
  const page = await browser.get(authorizeHop.location!);
  const form = /<form method="post" action="([^"]+)">((?:<input[^>]*>)+)/.exec(page.body);
  if (!form) throw new Error(`mock provider page unexpected: ${page.status}`);
  const fields: Record<string, string> = {};
  for (const m of form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)) fields[m[1]!] = m[2]!.replace(/&amp;/g, '&');
  fields.user = String(user);
  return browser.post(new URL(form[1]!, authorizeHop.location!).toString(), fields);
}

/**
 * Full happy path through the mock provider; returns the RP callback URL with code and state. The
 * gateway's URLs come from `config` (its discovery).
 */
export async function loginThroughMock(
  config: oidc.Configuration,
  params: Record<string, string> = {},
  user: number | 'cancel' | 'outage' = 0,
  providerId = 'mock-eid',
) {
  const started = await beginLogin(config, params);
  const interaction = await started.browser.follow(started.hop, (h) => h.status === 200 || atRp(h));
  let authorize: Hop;
  if (interaction.location?.includes(`/providers/${providerId}/authorize`)) authorize = interaction;
  else authorize = await chooseProvider(started.browser, interaction.url, providerId);
  if (!authorize.location)
    throw new Error(
      `no provider redirect: ${interaction.status} ${interaction.url} ${authorize.status} ${authorize.body.slice(0, 300)}`,
    );
  const back = await mockProviderLogin(started.browser, authorize, user);
  const final = await started.browser.follow(back, atRp);
  return { ...started, final, callback: final.location ? new URL(final.location) : undefined };
}

/** What the agency service checks a code against: the values it sent with the authorization request. */
export interface SentLogin {
  verifier: string;
  state: string;
  nonce?: string | undefined;
}

/**
 * The agency service's token request for the code at `callback` (the redirect to it, or its URL), checking
 * PKCE, state, nonce and that an ID token came; returns the token response.
 */
export async function exchangeCode(config: oidc.Configuration, login: SentLogin, callback: Hop | URL) {
  const url = callback instanceof URL ? callback : new URL(callback.location ?? 'about:no-redirect');
  if (!url.searchParams.get('code'))
    throw new Error(
      `no code at the agency service: ${callback instanceof URL ? url.href : `${callback.status} ${callback.url} -> ${callback.location}`}`,
    );
  return oidc.authorizationCodeGrant(config, url, {
    pkceCodeVerifier: login.verifier,
    expectedState: login.state,
    expectedNonce: login.nonce,
    idTokenExpected: true,
  });
}

/** The claims of the ID token the code at `callback` is exchanged for (see exchangeCode). */
export async function claimsOf(config: oidc.Configuration, login: SentLogin, callback: Hop | URL) {
  return (await exchangeCode(config, login, callback)).claims()!;
}

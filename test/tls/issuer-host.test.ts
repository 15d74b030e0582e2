// Every absolute URL comes from the issuer, never from request headers: a running gateway on a real
// HTTPS listener (test PKI) refuses a forged Host in production and serves it as the issuer in
// development; behind a trusted TLS terminator a forged X-Forwarded-Host / -Proto changes nothing;
// the engine's cookies are Secure, and the session cookie is `__Host-` over https.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { listen } from '../../src/tls/listeners.ts';
import type { CertificateAuthority } from '../../src/tls/pki.ts';
import { MOCK_PROVIDER, RP_REDIRECT, RP_SECRET, loginThroughMock, rpConfig } from '../support/gateway.ts';
import { TempDir, createCa, serverCert } from './pki-fixture.ts';
import { initKeyDir, nowSeconds } from '../../src/keys/key-set.ts';

let dir: TempDir;
let ca: CertificateAuthority;
const files: Record<string, string> = {};
const closers: (() => Promise<void>)[] = [];
const CLIENT = { client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] };
const COOKIE_KEY = 'cookie-key-0123456789-0123456789-0123456789';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One raw request to 127.0.0.1, with whatever Host and X-Forwarded-* headers a client can send. */
function send(port: number, path: string, headers: Record<string, string>, tls: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path,
      headers,
      ...(tls ? { ca: ca.cert, servername: 'localhost' } : {}),
    };
    const req = (tls ? https : http).request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A gateway from `settings` on a listener of 127.0.0.1 (HTTPS when server.tls is given); the issuer may name the port. */
async function startOn(
  settings: (port: number) => Record<string, unknown>,
): Promise<{ port: number; gateway: Gateway }> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const tls = settings(0).server !== undefined;
  const server = tls
    ? await listen((req, res) => handler(req, res), settings(0).server, 0, '127.0.0.1')
    : http.createServer((req, res) => handler(req, res));
  if (!tls) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const raw = {
    port: 0,
    log_level: 'error',
    cookie_keys: [COOKIE_KEY],
    keys: { dir: `${dir.path}/keys` },
    clients: [CLIENT],
    providers: [],
    ...settings(port),
  };
  let gateway: Gateway;
  try {
    // production starts only with a key set made beforehand (`vpm-gateway keys init`)
    await initKeyDir(raw.keys.dir, nowSeconds());
    gateway = await createGateway(parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} }), {
      audit: new MemoryAuditLog(),
      logger: memoryLogger(),
    });
  } catch (err) {
    server.close();
    throw err;
  }
  handler = gateway.app;
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.close();
  });
  return { port, gateway };
}

const AUTH = `/auth?${new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: RP_REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'state-0123456789', nonce: 'nonce-0123' })}`;

const discovery = (a: Answer) => JSON.parse(a.body) as Record<string, unknown>;

beforeAll(async () => {
  dir = new TempDir();
  ca = await createCa({ commonName: 'Issuer host CA' });
  const server = await serverCert(ca);
  files.cert = dir.write('server.pem', server.cert);
  files.key = dir.write('server-key.pem', server.key);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  dir.remove();
});

describe('production, serving HTTPS itself', () => {
  let port: number;
  let issuer: string;
  beforeAll(async () => {
    ({ port } = await startOn((p) => ({
      issuer: `https://localhost:${p}`,
      production: true,
      server: { tls: { cert: files.cert, key: files.key } },
    })));
    issuer = `https://localhost:${port}`;
  });

  test('a forged Host header is refused with a short 400 page, on discovery and on the authorization endpoint', async () => {
    for (const path of ['/.well-known/openid-configuration', AUTH]) {
      const answer = await send(port, path, { host: 'evil.example' }, true);
      expect(answer.status).toBe(400);
      expect(answer.headers['content-type']).toMatch(/^text\/html/);
      expect(answer.headers.location).toBeUndefined();
      expect(answer.body).not.toContain('evil.example');
    }
    expect(
      (await send(port, '/.well-known/openid-configuration', { host: `localhost:${port + 1}` }, true)).status,
    ).toBe(400);
  });

  test("discovery for the issuer's host publishes the issuer's URLs, cacheable; X-Forwarded-* from an untrusted peer change nothing", async () => {
    const answer = await send(
      port,
      '/.well-known/openid-configuration',
      { host: `localhost:${port}`, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
      true,
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('public, max-age=300');
    const d = discovery(answer);
    expect([d.issuer, d.authorization_endpoint, d.token_endpoint, d.jwks_uri]).toEqual([
      issuer,
      `${issuer}/auth`,
      `${issuer}/token`,
      `${issuer}/jwks`,
    ]);
  });

  test('a request line naming another host is refused although Host is right; naming the issuer it is served', async () => {
    const host = { host: `localhost:${port}` };
    const foreign = await send(port, 'https://evil.example/.well-known/openid-configuration', host, true);
    expect(foreign.status).toBe(400);
    expect(foreign.body).not.toContain('evil.example');
    const own = await send(port, `${issuer}/.well-known/openid-configuration`, host, true);
    expect(own.status).toBe(200);
    expect(discovery(own).token_endpoint).toBe(`${issuer}/token`);
  });

  test('the interaction cookies are Secure', async () => {
    const answer = await send(port, AUTH, { host: `localhost:${port}` }, true);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toMatch(/^\/interaction\//);
    const cookies = answer.headers['set-cookie'] ?? [];
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/; secure/i);
    expect(cookies.some((c) => c.startsWith('__Secure-interaction='))).toBe(true);
  });
});

describe('production behind a trusted TLS terminator (plain http on the inside)', () => {
  let port: number;
  const issuer = 'https://gw.example.lv';
  beforeAll(async () => {
    ({ port } = await startOn(() => ({ issuer, production: true, proxy: ['127.0.0.1'] })));
  });

  test('a forged X-Forwarded-Host and X-Forwarded-Proto through the terminator do not change the published URLs', async () => {
    const answer = await send(
      port,
      '/.well-known/openid-configuration',
      { host: 'gw.example.lv', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' },
      false,
    );
    expect(answer.status).toBe(200);
    const d = discovery(answer);
    expect([d.issuer, d.authorization_endpoint, d.userinfo_endpoint]).toEqual([
      issuer,
      `${issuer}/auth`,
      `${issuer}/me`,
    ]);
    expect(answer.body).not.toContain('evil.example');
  });

  test('a forged Host passed through by the terminator is refused', async () => {
    expect(
      (
        await send(
          port,
          '/.well-known/openid-configuration',
          { host: 'evil.example', 'x-forwarded-host': 'gw.example.lv' },
          false,
        )
      ).status,
    ).toBe(400);
  });

  test('cookies are Secure although the hop from the terminator is plain http', async () => {
    const answer = await send(port, AUTH, { host: 'gw.example.lv', 'x-forwarded-proto': 'http' }, false);
    expect(answer.status).toBe(303);
    expect(answer.headers.location).toMatch(/^\/interaction\//);
    const cookies = answer.headers['set-cookie'] ?? [];
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/; secure/i);
  });
});

describe('development over HTTPS, with a full login through the mock provider', () => {
  let port: number;
  let issuer: string;
  const previous = globalThis.fetch;
  beforeAll(async () => {
    ({ port } = await startOn((p) => ({
      issuer: `https://localhost:${p}`,
      server: { tls: { cert: files.cert, key: files.key } },
      providers: [MOCK_PROVIDER],
    })));
    issuer = `https://localhost:${port}`;
    // the test browser and openid-client trust the test CA
    const agent = new Agent({ connect: { ca: ca.cert } });
    globalThis.fetch = ((u: string, init?: object) =>
      undiciFetch(u, { ...init, dispatcher: agent })) as unknown as typeof fetch;
    closers.push(async () => {
      globalThis.fetch = previous;
      await agent.close();
    });
  });

  test('another Host is served as the issuer (rewritten, not refused): discovery still names only the issuer', async () => {
    const answer = await send(port, '/.well-known/openid-configuration', { host: 'evil.example' }, true);
    expect(answer.status).toBe(200);
    expect(discovery(answer).authorization_endpoint).toBe(`${issuer}/auth`);
  });

  test('the session cookie is __Host- (Secure, Path=/, no Domain); the path-scoped interaction cookies are __Secure-', async () => {
    const login = await loginThroughMock(await rpConfig(issuer));
    expect(login.callback?.searchParams.get('code')).toBeTruthy();
    const cookies = login.browser.history.flatMap((hop) =>
      hop.url.startsWith(issuer) ? hop.headers.getSetCookie() : [],
    );
    const session = cookies.find((c) => c.startsWith('__Host-session='));
    expect(session).toBeDefined();
    expect(session).toMatch(/; path=\/;/);
    expect(session).toMatch(/; secure/i);
    expect(session).not.toMatch(/; domain=/i);
    const interaction = cookies.filter((c) => /^[^=]*interaction/.test(c));
    expect(interaction.length).toBeGreaterThan(0);
    for (const c of interaction) expect(c).toMatch(/^__Secure-interaction(_resume)?(\.sig)?=.*; secure/i);
  });
});

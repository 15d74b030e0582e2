// In production a request for another host than the issuer's is refused (src/web/issuer-host.ts). A relying
// party that reaches the token endpoint by another name (an internal service name behind the load balancer,
// a misconfigured proxy) must get an OAuth error it can read (RFC 6749 5.2: a JSON body with `error`), not
// the HTML page meant for a browser, which openid-client reports only as an unexpected content type. A
// browser still gets the page. The middleware on a real HTTP listener, in front of routes never reached.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { issuerHost } from '../../src/web/issuer-host.ts';
import { memoryLogger } from '../../src/logger.ts';

let server: http.Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(issuerHost({ issuer: 'https://login.example.lv', production: true, logger: memoryLogger() }));
  app.use((_req, res) => res.status(500).send('reached'));
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test.each(['/token', '/me', '/token/revocation', '/request', '/jwks', '/.well-known/openid-configuration'])(
  '%s asked by a client wanting JSON under another host name: invalid_request as JSON, not a page',
  async (path) => {
    const res = await fetch(`${base}${path}`, {
      method: path === '/jwks' || path.startsWith('/.well-known') ? 'GET' : 'POST',
      headers: { host: 'vpm-gateway.internal', accept: 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_request');
    expect(body.error_description).not.toContain('vpm-gateway.internal');
  },
);

test('a browser under another host name still gets the short page', async () => {
  const res = await fetch(`${base}/auth`, {
    headers: { host: 'evil.example', accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'accept-language': 'en' },
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await res.text()).not.toContain('evil.example');
});

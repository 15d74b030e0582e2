// RFC 8705 §5 endpoint aliases on a second listener: browsers use the main HTTPS listener, which never
// asks for a client certificate (no certificate prompt on login pages); agency services fetch tokens,
// userinfo and revocation on the mutual-TLS listener, published as `mtls_endpoint_aliases`.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import type http from 'node:http';
import { execFile } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig, type ConfigError } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { createMtlsServer, listen } from '../../src/tls/listeners.ts';
import { mtlsEndpointAliases } from '../../src/tls/mtls-endpoint-aliases.ts';
import { createProviderTransport } from '../../src/tls/transport.ts';
import type { CertificateAuthority, IssuedCertificate } from '../../src/tls/pki.ts';
import { loginThroughMock, MOCK_PROVIDER, RP_REDIRECT, tokenEndpointVerdict } from '../support/gateway.ts';
import { TempDir, createCa, serverCert, clientCert } from './pki-fixture.ts';
import { thumbprint } from '../support/digest.ts';

const AGENCY_DN = 'CN=demo-service,O=Test';
let dir: TempDir;
let ca: CertificateAuthority;
let agency: IssuedCertificate, otherAgency: IssuedCertificate;
const files: Record<string, string> = {};
const closers: (() => Promise<void>)[] = [];
let issuer: string;
let mtlsBase: string;
let gateway: Gateway;
let mainServer: http.Server;
const browserFetch = globalThis.fetch;

/** A fetch presenting `cert` (or none) and trusting the test CA. */
function transport(name: string, cert: IssuedCertificate | undefined): typeof fetch {
  if (!cert) {
    const agent = new Agent({ connect: { ca: ca.cert } });
    closers.push(() => agent.close());
    return ((u: string, init?: object) => undiciFetch(u, { ...init, dispatcher: agent })) as unknown as typeof fetch;
  }
  const t = createProviderTransport(name, {
    ca: files.ca!,
    cert: dir.write(`${name}.pem`, cert.cert),
    key: dir.write(`${name}-key.pem`, cert.key),
  });
  closers.push(() => t.close());
  return t.fetch;
}

/** The raw TLS handshake as openssl sees it: did the server send a CertificateRequest? */
function handshake(port: number, version: '-tls1_2' | '-tls1_3'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        version,
        '-msg',
        '-CAfile',
        files.ca!,
        '-cert',
        files.agency!,
        '-key',
        files.agencyKey!,
        '-verify_return_error',
      ],
      { timeout: 10_000 },
      (err, stdout) => (stdout.includes('Handshake') ? resolve(stdout) : reject(err ?? new Error('no handshake seen'))),
    );
    child.stdin?.end();
  });
}

beforeAll(async () => {
  dir = new TempDir();
  ca = await createCa({ commonName: 'Agency PKI' });
  const [server, a, o] = await Promise.all([
    serverCert(ca),
    clientCert(ca, 'demo-service'),
    clientCert(ca, 'other-service'),
  ]);
  agency = a;
  otherAgency = o;
  Object.assign(files, {
    ca: dir.write('ca.pem', ca.cert),
    server: dir.write('server.pem', server.cert),
    serverKey: dir.write('server-key.pem', server.key),
    agency: dir.write('agency.pem', agency.cert),
    agencyKey: dir.write('agency-key.pem', agency.key),
  });
  const tls = { cert: files.server, key: files.serverKey, client_ca: files.ca };

  // Both listeners first (ephemeral ports), then the configuration that names them.
  let handler: http.RequestListener = (_q, r) => void r.writeHead(503).end();
  const forward: http.RequestListener = (q, r) => handler(q, r);
  mainServer = await listen(forward, { tls, mtls: { port: 65535 } }, 0, '127.0.0.1');
  const mtlsServer = createMtlsServer(forward, { tls, mtls: { port: 65535 } })!;
  await new Promise<void>((r) => mtlsServer.listen(0, '127.0.0.1', r));
  issuer = `https://127.0.0.1:${(mainServer.address() as AddressInfo).port}`;
  const mtlsPort = (mtlsServer.address() as AddressInfo).port;
  mtlsBase = `https://127.0.0.1:${mtlsPort}`;

  const raw = {
    issuer,
    keys: { dir: `${dir.path}/keys` },
    server: { tls, mtls: { port: mtlsPort } },
    clients: [
      {
        client_id: 'svc-mtls',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: AGENCY_DN,
        redirect_uris: [RP_REDIRECT],
      },
    ],
    providers: [MOCK_PROVIDER],
  };
  const config = parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} });
  gateway = await createGateway(config, { logger: memoryLogger(), audit: new MemoryAuditLog() });
  handler = gateway.app;
  // the test browser (test/support/browser.ts uses global fetch) trusts the test CA and has no certificate
  globalThis.fetch = transport('browser', undefined);
  closers.push(async () => {
    globalThis.fetch = browserFetch;
    for (const s of [mainServer, mtlsServer]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await gateway.close();
  });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  dir.remove();
});

describe('discovery', () => {
  test('lists the aliases on the mutual-TLS listener, and the main endpoints stay on the main listener', async () => {
    const meta = (await (
      await transport('d', undefined)(`${issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(meta.mtls_endpoint_aliases).toEqual({
      token_endpoint: `${mtlsBase}/token`,
      userinfo_endpoint: `${mtlsBase}/me`,
      revocation_endpoint: `${mtlsBase}/token/revocation`,
    });
    expect(meta.token_endpoint).toBe(`${issuer}/token`);
    expect(meta.tls_client_certificate_bound_access_tokens).toBe(true);
    expect(meta.token_endpoint_auth_methods_supported).toEqual(
      expect.arrayContaining(['tls_client_auth', 'self_signed_tls_client_auth']),
    );
  });

  test('alias URLs: default from the issuer origin and port, or an explicit url (terminator host name)', () => {
    const tls = { cert: 'c', key: 'k' };
    expect(mtlsEndpointAliases({ tls, mtls: { port: 8443 } }, 'https://gw.example.lv/base/')?.token_endpoint).toBe(
      'https://gw.example.lv:8443/token',
    );
    expect(mtlsEndpointAliases({ tls, mtls: { port: 443 } }, 'https://gw.example.lv')?.userinfo_endpoint).toBe(
      'https://gw.example.lv/me',
    );
    const header = { name: 'x-client-cert', trusted_proxies: ['10.0.0.1'] };
    expect(
      mtlsEndpointAliases(
        { client_certificate_header: header, mtls: { url: 'https://mtls.gw.example.lv/' } },
        'https://gw.example.lv',
      ),
    ).toEqual({
      token_endpoint: 'https://mtls.gw.example.lv/token',
      userinfo_endpoint: 'https://mtls.gw.example.lv/me',
      revocation_endpoint: 'https://mtls.gw.example.lv/token/revocation',
    });
    expect(mtlsEndpointAliases({ tls }, 'https://gw.example.lv')).toBeUndefined();
  });
});

describe('the main listener never asks for a client certificate', () => {
  test.each(['-tls1_3', '-tls1_2'] as const)(
    '%s: no CertificateRequest from the main listener; one from the mutual-TLS listener',
    async (version) => {
      const main = await handshake(Number(new URL(issuer).port), version);
      expect(main).toMatch(/ServerHello/);
      expect(main).not.toMatch(/CertificateRequest/);
      const aliased = await handshake(Number(new URL(mtlsBase).port), version);
      expect(aliased).toMatch(/CertificateRequest/);
    },
  );

  test('a certificate offered to the main listener never reaches the token endpoint; the same one on the alias does', async () => {
    const asAgency = transport('agency-main', agency);
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', asAgency)).toBe('invalid_client');
    expect(await tokenEndpointVerdict(mtlsBase, 'svc-mtls', asAgency)).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(mtlsBase, 'svc-mtls', transport('no-cert', undefined))).toBe('invalid_client');
  });

  test('the mutual-TLS listener serves only the aliased endpoints', async () => {
    const asAgency = transport('agency-404', agency);
    for (const path of [
      '/auth',
      '/.well-known/openid-configuration',
      '/jwks',
      '/interaction/x',
      '/healthz',
      '/token/introspection',
    ]) {
      expect((await asAgency(`${mtlsBase}${path}`)).status).toBe(404);
    }
  });
});

describe('an agency service using the aliases (openid-client, use_mtls_endpoint_aliases)', () => {
  test('login on the main listener, tokens, userinfo and revocation on the alias with the certificate', async () => {
    const asAgency = transport('agency', agency);
    const config = await oidc.discovery(
      new URL(issuer),
      'svc-mtls',
      { use_mtls_endpoint_aliases: true },
      oidc.TlsClientAuth(),
      { [oidc.customFetch]: asAgency as oidc.CustomFetch },
    );
    config[oidc.customFetch] = ((url: string, options: RequestInit) => {
      // every back-channel call of the service goes to the aliases
      expect(url.startsWith(`${mtlsBase}/`)).toBe(true);
      return asAgency(url, options);
    }) as oidc.CustomFetch;

    const login = await loginThroughMock(config);
    expect(login.callback?.searchParams.get('code')).toBeTruthy();
    // the whole browser journey ran on the main listener
    expect(login.browser.history.every((h) => !h.url.startsWith(mtlsBase))).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, login.callback!, {
      pkceCodeVerifier: login.verifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.aud).toBe('svc-mtls');
    expect((await gateway.provider.AccessToken.find(tokens.access_token))?.['x5t#S256']).toBe(thumbprint(agency.cert));

    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info.sub).toBe(tokens.claims()!.sub);
    // the bound token is refused with another certificate on the alias, and on the main listener (no certificate there)
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    expect((await transport('other', otherAgency)(`${mtlsBase}/me`, { headers: bearer })).status).toBe(401);
    expect((await asAgency(`${issuer}/me`, { headers: bearer })).status).toBe(401);

    await oidc.tokenRevocation(config, tokens.access_token);
    expect(await gateway.provider.AccessToken.find(tokens.access_token)).toBeUndefined();
  });
});

describe('configuration', () => {
  const parse = (server: Record<string, unknown>) => {
    try {
      parseConfig(stringify({ issuer: 'https://gw.example.lv', server }), 't.yaml', {
        factories: ADAPTER_FACTORIES,
        env: {},
      });
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };
  test('each contradiction names its path', () => {
    const tls = { cert: 'c.pem', key: 'k.pem', client_ca: 'ca.pem' };
    expect(parse({ tls, mtls: { port: 8443 } })).toEqual([]);
    expect(parse({ mtls: { port: 8443 } })).toEqual([
      'server.mtls.port: a mutual-TLS listener needs server.tls (certificate and key)',
    ]);
    expect(parse({ tls, mtls: {} })).toEqual([
      "server.mtls: give port (the gateway's own mutual-TLS listener) or url (a terminator's mutual-TLS host name)",
    ]);
    expect(parse({ tls, mtls: { url: 'https://mtls.gw.example.lv' } })).toEqual([
      "server.mtls.url: aliases without the gateway's own listener need server.client_certificate_header (the terminator forwards the certificate)",
    ]);
    expect(parse({ tls: { ...tls, request_client_certificate: true }, mtls: { port: 8443 } })).toEqual([
      'server.tls.request_client_certificate: with server.mtls the main listener never requests client certificates; remove this setting',
    ]);
    expect(parse({ tls, mtls: { port: 8443, url: 'http://x' } })).toEqual(['server.mtls.url: must be an https URL']);
  });
});

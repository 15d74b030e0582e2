// Agency services authenticating at the token endpoint with certificates (RFC 8705), end to end:
// openid-client plays the service, a browser logs in through the mock provider, tokens are bound to
// the certificate. Once with the gateway terminating TLS itself, once behind a terminator that
// forwards the certificate in a header (and the header ignored from an untrusted address).
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import type http from 'node:http';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { listen } from '../../src/tls/listeners.ts';
import { parseForwardedCertificate } from '../../src/tls/forwarded-certificate.ts';
import { createProviderTransport, type DedicatedTransport } from '../../src/tls/transport.ts';
import type { CertificateAuthority, IssuedCertificate } from '../../src/tls/pki.ts';
import {
  exchangeCode,
  loginThroughMock,
  MOCK_PROVIDER,
  RP_REDIRECT,
  tokenEndpointVerdict,
} from '../support/gateway.ts';
import { TempDir, createCa, serverCert, clientCert } from './pki-fixture.ts';
import { thumbprint } from '../support/digest.ts';

const AGENCY_DN = 'CN=demo-service,O=Test';
let dir: TempDir;
let ca: CertificateAuthority, wrongCa: CertificateAuthority;
let server: IssuedCertificate,
  agency: IssuedCertificate,
  otherAgency: IssuedCertificate,
  impostor: IssuedCertificate,
  selfSigned: CertificateAuthority;
const files: Record<string, string> = {};
const closers: (() => Promise<void>)[] = [];

function selfSignedJwks(cert: string) {
  const x = new X509Certificate(cert);
  return { keys: [{ ...x.publicKey.export({ format: 'jwk' }), x5c: [x.raw.toString('base64')] }] };
}

function mtlsClients(jwks: unknown) {
  return [
    {
      client_id: 'svc-mtls',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: AGENCY_DN,
      redirect_uris: [RP_REDIRECT],
    },
    {
      client_id: 'svc-self',
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks,
      redirect_uris: [RP_REDIRECT],
    },
  ];
}

/** A fetch presenting `cert` (or none) and trusting the test CA. */
function clientTransport(name: string, cert: IssuedCertificate | undefined): typeof fetch {
  if (!cert) {
    const agent = new Agent({ connect: { ca: ca.cert } });
    closers.push(() => agent.close());
    return ((u: string, init?: object) => undiciFetch(u, { ...init, dispatcher: agent })) as unknown as typeof fetch;
  }
  const t: DedicatedTransport = createProviderTransport(name, {
    ca: files.ca!,
    cert: dir.write(`${name}.pem`, cert.cert),
    key: dir.write(`${name}-key.pem`, cert.key),
  });
  closers.push(() => t.close());
  return t.fetch;
}

async function serviceConfig(issuer: string, clientId: string, fetchImpl: typeof fetch): Promise<oidc.Configuration> {
  const config = await oidc.discovery(new URL(issuer), clientId, {}, oidc.TlsClientAuth(), {
    [oidc.customFetch]: fetchImpl as oidc.CustomFetch,
    execute: issuer.startsWith('http:') ? [oidc.allowInsecureRequests] : [],
  });
  config[oidc.customFetch] = fetchImpl as oidc.CustomFetch;
  return config;
}

async function loginAndExchange(config: oidc.Configuration) {
  const login = await loginThroughMock(config);
  return exchangeCode(config, login, login.callback!);
}

interface Started {
  issuer: string;
  gateway: Gateway;
}

/** The real config loader and gateway behind the real listener (HTTPS when server.tls is set). */
async function startHere(serverSettings: Record<string, unknown>): Promise<Started> {
  let handler: http.RequestListener = (_q, r) => void r.writeHead(503).end();
  const s = await listen((q, r) => handler(q, r), serverSettings, 0, '127.0.0.1');
  const issuer = `${serverSettings.tls ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const raw = {
    issuer,
    keys: { dir: `${dir.path}/keys` },
    server: serverSettings,
    clients: mtlsClients(selfSignedJwks(selfSigned.cert)),
    providers: [MOCK_PROVIDER],
  };
  const config = parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} });
  const gateway = await createGateway(config, { logger: memoryLogger(), audit: new MemoryAuditLog() });
  handler = gateway.app;
  closers.push(async () => {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    await gateway.close();
  });
  return { issuer, gateway };
}

beforeAll(async () => {
  dir = new TempDir();
  [ca, wrongCa, selfSigned] = await Promise.all([
    createCa({ commonName: 'Agency PKI' }),
    createCa({ commonName: 'Rogue CA' }),
    createCa({ commonName: 'self-signed-service' }),
  ]);
  [server, agency, otherAgency, impostor] = await Promise.all([
    serverCert(ca),
    clientCert(ca, 'demo-service'),
    clientCert(ca, 'other-service'),
    clientCert(wrongCa, 'demo-service'),
  ]);
  Object.assign(files, {
    ca: dir.write('ca.pem', ca.cert),
    server: dir.write('server.pem', server.cert),
    serverKey: dir.write('server-key.pem', server.key),
  });
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  dir.remove();
});

describe('the gateway terminating TLS itself', () => {
  let issuer: string;
  let gateway: Gateway;
  const browserFetch = globalThis.fetch;

  beforeAll(async () => {
    ({ issuer, gateway } = await startHere({ tls: { cert: files.server, key: files.serverKey, client_ca: files.ca } }));
    // the test browser (test/support/browser.ts uses global fetch) must trust the test CA; it has no client certificate
    globalThis.fetch = clientTransport('browser', undefined);
    closers.push(async () => {
      globalThis.fetch = browserFetch;
    });
  });

  test('tls_client_auth: login, token exchange with the certificate, access token bound to it', async () => {
    const asAgency = clientTransport('agency', agency);
    const config = await serviceConfig(issuer, 'svc-mtls', asAgency);
    const tokens = await loginAndExchange(config);
    expect(tokens.claims()?.aud).toBe('svc-mtls');
    const stored = await gateway.provider.AccessToken.find(tokens.access_token);
    expect(stored?.['x5t#S256']).toBe(thumbprint(agency.cert));

    const userinfo = `${issuer}/me`;
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    expect((await asAgency(userinfo, { headers: bearer })).status).toBe(200);
    // the same token from another certificate, or none, is refused
    const other = await clientTransport('other-agency', otherAgency)(userinfo, { headers: bearer });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await clientTransport('no-cert', undefined)(userinfo, { headers: bearer })).status).toBe(401);
  });

  test('self_signed_tls_client_auth: the registered self-signed certificate authenticates', async () => {
    const config = await serviceConfig(issuer, 'svc-self', clientTransport('self', selfSigned));
    const tokens = await loginAndExchange(config);
    expect((await gateway.provider.AccessToken.find(tokens.access_token))?.['x5t#S256']).toBe(
      thumbprint(selfSigned.cert),
    );
  });

  test('refusals at the token endpoint: no certificate, another CA with the same DN, another subject, unregistered self-signed', async () => {
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('agency2', agency))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('none', undefined))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('impostor', impostor))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-mtls', clientTransport('other', otherAgency))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(issuer, 'svc-self', clientTransport('self2', selfSigned))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(issuer, 'svc-self', clientTransport('self-agency', agency))).toBe(
      'invalid_client',
    );
  });

  test('a client offering only TLS 1.1 is refused by the gateway', async () => {
    const port = Number(new URL(issuer).port);
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect(
        {
          port,
          host: '127.0.0.1',
          ca: ca.cert,
          minVersion: 'TLSv1',
          maxVersion: 'TLSv1.1',
          ciphers: 'DEFAULT@SECLEVEL=0',
        },
        () => resolve('connected'),
      );
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(outcome).toMatch(
      /ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ERR_SSL_UNSUPPORTED_PROTOCOL|ERR_SSL_NO_PROTOCOLS_AVAILABLE/,
    );
  });
});

const HEADER = 'x-ssl-client-cert';
const forwarded = (pem: string) => ({ [HEADER]: encodeURIComponent(pem) });

/** the terminator's side: a plain HTTP hop to the gateway, adding the header (and `also`); optionally from
 * another loopback address */
function viaTerminator(
  cert: IssuedCertificate | undefined,
  localAddress?: string,
  also: Record<string, string> = {},
): typeof fetch {
  const agent = new Agent(localAddress ? { localAddress } : {});
  closers.push(() => agent.close());
  return ((u: string, init: { headers?: ConstructorParameters<typeof Headers>[0] } = {}) => {
    const headers = new Headers(init.headers);
    if (cert) headers.set(HEADER, forwarded(cert.cert)[HEADER]!);
    for (const [name, value] of Object.entries(also)) headers.set(name, value);
    return undiciFetch(u, { ...(init as object), headers: Object.fromEntries(headers), dispatcher: agent });
  }) as unknown as typeof fetch;
}

describe('behind a TLS terminator forwarding the certificate in a header', () => {
  let gw: Started;

  beforeAll(async () => {
    gw = await startHere({
      client_certificate_header: { name: HEADER, trusted_proxies: ['127.0.0.1/32', '::1'], client_ca: files.ca },
    });
  });

  test('tls_client_auth through the header, and the token bound to the forwarded certificate', async () => {
    const asAgency = viaTerminator(agency);
    const config = await serviceConfig(gw.issuer, 'svc-mtls', asAgency);
    const tokens = await loginAndExchange(config);
    expect((await gw.gateway.provider.AccessToken.find(tokens.access_token))?.['x5t#S256']).toBe(
      thumbprint(agency.cert),
    );
    const bearer = { authorization: `Bearer ${tokens.access_token}` };
    expect((await asAgency(`${gw.issuer}/me`, { headers: bearer })).status).toBe(200);
    expect((await viaTerminator(otherAgency)(`${gw.issuer}/me`, { headers: bearer })).status).toBe(401);
  });

  test('a forwarded certificate not issued by the client CA does not pass tls_client_auth', async () => {
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(agency))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(impostor))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', viaTerminator(undefined))).toBe('invalid_client');
  });

  test('the header is ignored from an address that is not a trusted proxy', async () => {
    // 127.0.0.2 is loopback too, but not in trusted_proxies
    const fromElsewhere = viaTerminator(agency, '127.0.0.2');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', fromElsewhere)).toBe('invalid_client');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-self', viaTerminator(selfSigned, '127.0.0.2'))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-self', viaTerminator(selfSigned))).toBe('invalid_grant');
  });

  test('an IPv6 block takes in no IPv4 peer; an IPv4-mapped entry names the IPv4 block it spells', async () => {
    // node:net's BlockList alone would put every IPv4 peer in ::/80 (as ::ffff:a.b.c.d); Express's
    // proxy-addr does not, and the header must not be trusted more widely than X-Forwarded-For
    const wide = await startHere({
      client_certificate_header: {
        name: HEADER,
        trusted_proxies: ['::/80', '::ffff:127.0.0.2/128'],
        client_ca: files.ca,
      },
    });
    expect(await tokenEndpointVerdict(wide.issuer, 'svc-mtls', viaTerminator(agency))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(wide.issuer, 'svc-mtls', viaTerminator(agency, '127.0.0.2'))).toBe(
      'invalid_grant',
    );
  });
});

describe('behind a terminator that reports its own verification of the certificate', () => {
  const VERIFY = 'x-ssl-client-verify';
  let gw: Started;

  beforeAll(async () => {
    gw = await startHere({
      client_certificate_header: {
        name: HEADER,
        verify_header: VERIFY,
        trusted_proxies: ['127.0.0.1/32'],
        client_ca: files.ca,
      },
    });
  });

  test('a certificate of the client CA passes only when the terminator says SUCCESS (it may know it revoked)', async () => {
    const saying = (verdict?: string) => viaTerminator(agency, undefined, verdict ? { [VERIFY]: verdict } : {});
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying('SUCCESS'))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying('FAILED:certificate revoked'))).toBe(
      'invalid_client',
    );
    expect(await tokenEndpointVerdict(gw.issuer, 'svc-mtls', saying())).toBe('invalid_client');
  });
});

describe('forwarded certificate formats', () => {
  test('URL-encoded PEM, PEM with spaces, base64 DER; garbage is no certificate', () => {
    const der = new X509Certificate(agency.cert).raw;
    for (const v of [encodeURIComponent(agency.cert), agency.cert.replace(/\n/g, ' '), der.toString('base64')]) {
      expect(parseForwardedCertificate(v)?.raw.equals(der)).toBe(true);
    }
    expect(parseForwardedCertificate('%%%')).toBeUndefined();
    expect(parseForwardedCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----')).toBeUndefined();
  });
});

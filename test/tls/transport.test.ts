// Outbound mutual TLS per provider, against real HTTPS servers on loopback.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import tls from 'node:tls';
import {
  createProviderTransport,
  TlsPeerError,
  tlsClientSchema,
  type PeerVerification,
} from '../../src/tls/transport.ts';
import type { TlsClientConfig } from '../../src/tls/transport.ts';
import type { CertificateAuthority, IssuedCertificate } from '../../src/tls/pki.ts';
import {
  TempDir,
  DAY,
  createCa,
  serverCert,
  clientCert,
  startServer,
  failureOf,
  fingerprint,
  type TestServer,
} from './pki-fixture.ts';

let dir: TempDir;
let caA: CertificateAuthority, caB: CertificateAuthority, wrongCa: CertificateAuthority;
let serverA: IssuedCertificate,
  serverB: IssuedCertificate,
  gatewayForA: IssuedCertificate,
  gatewayForB: IssuedCertificate;
let configA: TlsClientConfig, configB: TlsClientConfig;
const servers: TestServer[] = [];
const transports: { close(): Promise<void> }[] = [];

async function server(opts: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(opts);
  servers.push(s);
  return s;
}

function transport(id: string, config: TlsClientConfig | undefined, onPeerVerified?: (v: PeerVerification) => void) {
  const t = createProviderTransport(id, config, onPeerVerified ? { onPeerVerified } : {});
  transports.push(t);
  return t;
}

/** provider A's server: certificate from caA, client certificates accepted from caA only */
function providerAServer(cert: IssuedCertificate = serverA, extra: Parameters<typeof startServer>[0] = {}) {
  return server({ cert: cert.cert, key: cert.key, ca: caA.cert, ...extra });
}

beforeAll(async () => {
  dir = new TempDir();
  [caA, caB, wrongCa] = await Promise.all([
    createCa({ commonName: 'Provider A CA' }),
    createCa({ commonName: 'Provider B CA' }),
    createCa({ commonName: 'Wrong CA' }),
  ]);
  [serverA, serverB, gatewayForA, gatewayForB] = await Promise.all([
    serverCert(caA),
    serverCert(caB),
    clientCert(caA, 'gateway-for-a'),
    clientCert(caB, 'gateway-for-b'),
  ]);
  configA = dir.files('a', caA, gatewayForA);
  configB = dir.files('b', caB, gatewayForB);
});

afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await Promise.all(servers.map((s) => s.close()));
  dir.remove();
});

describe('provider transport: success', () => {
  test('the right client certificate reaches the provider over TLS 1.2+', async () => {
    const s = await providerAServer();
    const seenPeers: PeerVerification[] = [];
    const t = transport('a', configA, (v) => seenPeers.push(v));
    const res = await t.fetch(`${s.url}/token`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, cn: 'gateway-for-a' });
    expect(seenPeers).toHaveLength(1);
    expect(seenPeers[0]).toMatchObject({ providerId: 'a', host: '127.0.0.1', spkiPin: serverA.spkiPin });
    expect(['TLSv1.2', 'TLSv1.3']).toContain(seenPeers[0]!.protocol);
  });

  test('a matching SPKI pin is accepted (by DNS name via servername)', async () => {
    const s = await providerAServer();
    const t = transport('a-pinned', {
      ...configA,
      pins: [`${'A'.repeat(43)}=`, serverA.spkiPin],
      servername: 'localhost',
    });
    expect((await t.fetch(s.url)).status).toBe(200);
  });
});

describe('provider transport: refusals', () => {
  test('server certificate from another CA (the provider CA replaces the trust store)', async () => {
    const wrong = await serverCert(wrongCa);
    const s = await providerAServer(wrong);
    expect(await failureOf(transport('a', configA).fetch(s.url))).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(s.seen.requests).toHaveLength(0);
  });

  test('expired server certificate', async () => {
    const expired = await serverCert(
      caA,
      {},
      { notBefore: new Date(Date.now() - 30 * DAY), notAfter: new Date(Date.now() - DAY) },
    );
    const s = await providerAServer(expired);
    expect(await failureOf(transport('a', configA).fetch(s.url))).toBe('CERT_HAS_EXPIRED');
  });

  test('not-yet-valid server certificate', async () => {
    const future = await serverCert(
      caA,
      {},
      { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) },
    );
    const s = await providerAServer(future);
    expect(await failureOf(transport('a', configA).fetch(s.url))).toBe('CERT_NOT_YET_VALID');
  });

  test('host name mismatch', async () => {
    const other = await serverCert(caA, { dns: ['other.example'], ip: [] });
    const s = await providerAServer(other);
    expect(await failureOf(transport('a', configA).fetch(s.url))).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    // and with a configured server name that the certificate does not carry
    const s2 = await providerAServer();
    expect(await failureOf(transport('a', { ...configA, servername: 'bank.example' }).fetch(s2.url))).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
  });

  test('pin mismatch', async () => {
    const s = await providerAServer();
    const t = transport('a', { ...configA, pins: [serverB.spkiPin] });
    const err = await t.fetch(s.url).catch((e: Error) => e);
    expect((err as Error).cause).toBeInstanceOf(TlsPeerError);
    expect((err as { cause: TlsPeerError }).cause.code).toBe('ERR_VPM_TLS_PIN_MISMATCH');
    expect(s.seen.requests).toHaveLength(0);
  });

  test('half a client identity: a tls block with a key but no cert (or the reverse) is invalid, and a bare client is refused', async () => {
    const keyOnly = tlsClientSchema.safeParse({ ca: configA.ca, key: configA.key });
    expect(keyOnly.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['cert', 'cert and key go together (mutual TLS); give cert as well, or neither for server-authenticated TLS'],
    ]);
    expect(tlsClientSchema.safeParse({ ca: configA.ca, cert: configA.cert }).error?.issues[0]?.path).toEqual(['key']);
    const s = await providerAServer();
    // a TLS client that trusts the server but presents no certificate: the handshake is refused
    const bare = tls.connect({ port: s.port, host: '127.0.0.1', ca: caA.cert, servername: 'localhost' });
    const outcome = await new Promise<string>((resolve) => {
      bare.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      bare.on('secureConnect', () => bare.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      bare.on('data', () => resolve('answered'));
    });
    bare.destroy();
    expect(outcome).toBe('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    expect(s.seen.requests).toHaveLength(0);
  });

  test('wrong client certificate (issued by another CA): the provider refuses', async () => {
    const s = await providerAServer();
    const t = transport('a-wrong-client', {
      ...configA,
      ...dir.files('wrongclient', caA, await clientCert(wrongCa, 'intruder')),
      ca: configA.ca,
    });
    const code = await failureOf(t.fetch(s.url));
    expect(code).toMatch(/ERR_SSL_TLSV1_ALERT_UNKNOWN_CA|UND_ERR_SOCKET|ECONNRESET/);
    expect(s.seen.requests).toHaveLength(0);
    expect(s.seen.tlsErrors.length).toBeGreaterThan(0);
  });

  test('a server offering only TLS 1.1 is refused', async () => {
    const s = await providerAServer(serverA, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    expect(await failureOf(transport('a', configA).fetch(s.url))).toMatch(
      /ERR_SSL_UNSUPPORTED_PROTOCOL|ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION/,
    );
  });

  test('a TLS 1.2 server with only a weak (CBC, non-forward-secret) suite is refused', async () => {
    const s = await providerAServer(serverA, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' });
    expect(await failureOf(transport('a', configA).fetch(s.url))).toMatch(/ALERT_HANDSHAKE_FAILURE|NO_SHARED_CIPHER/);
  });

  test('plain http is refused when mutual TLS is configured', async () => {
    const t = transport('a', configA);
    const err = await t.fetch('http://127.0.0.1:47123/').catch((e: Error) => e);
    expect((err as { cause: TlsPeerError }).cause.code).toBe('ERR_VPM_TLS_PLAIN_HTTP');
  });

  test('an unreadable key file is a clear startup error', () => {
    expect(() => createProviderTransport('x', { ...configA, key: '/nonexistent/key.pem' })).toThrow(
      'provider x: cannot read tls.key file /nonexistent/key.pem: ENOENT',
    );
    expect(() => createProviderTransport('x', { ...configA, key: configB.key })).toThrow(
      /^provider x: unusable tls certificate or key/,
    );
  });
});

describe('a tls block with only ca (server-authenticated TLS, development back channels)', () => {
  test('is valid, trusts only that CA and presents no client certificate', async () => {
    expect(tlsClientSchema.parse({ ca: configA.ca })).toEqual({ ca: configA.ca });
    // a server that asks for a client certificate without requiring one: none arrives
    const s = await server({ cert: serverA.cert, key: serverA.key, ca: caA.cert, rejectUnauthorized: false });
    const t = transport('a', { ca: configA.ca });
    expect(t.mutualTls).toBe(false);
    expect(await (await t.fetch(`${s.url}/`)).json()).toEqual({ ok: true, cn: null });
    // provider B's server certificate is not trusted by a block naming provider A's CA
    const b = await server({ cert: serverB.cert, key: serverB.key, requestCert: false });
    expect(await failureOf(t.fetch(`${b.url}/`))).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|ERR_VPM_TLS_UNAUTHORIZED/);
    expect(s.seen.presented).toEqual([]);
  });

  test('a server that requires a client certificate refuses it; plain http is refused', async () => {
    const s = await providerAServer();
    const t = transport('a', { ca: configA.ca });
    // TLS 1.3: the server's certificate_required alert arrives after the client's handshake ends
    expect(await failureOf(t.fetch(`${s.url}/`))).toMatch(/CERTIFICATE_REQUIRED|UND_ERR_SOCKET|ECONNRESET/);
    expect(s.seen.requests).toHaveLength(0);
    const err = await t.fetch('http://127.0.0.1:47123/').catch((e: Error) => e);
    expect((err as { cause: TlsPeerError }).cause.code).toBe('ERR_VPM_TLS_PLAIN_HTTP');
  });
});

describe('provider isolation', () => {
  test("provider A never receives provider B's client certificate, nor B A's", async () => {
    // Recording servers: every presented client certificate is logged, trusted or not.
    const a = await server({ cert: serverA.cert, key: serverA.key, ca: caA.cert, recordAll: true });
    const b = await server({ cert: serverB.cert, key: serverB.key, ca: caB.cert, recordAll: true });
    const tA = transport('a', configA);
    const tB = transport('b', configB);
    for (let i = 0; i < 3; i += 1) {
      expect((await (await tA.fetch(a.url)).json()) as object).toMatchObject({ cn: 'gateway-for-a' });
      expect((await (await tB.fetch(b.url)).json()) as object).toMatchObject({ cn: 'gateway-for-b' });
    }
    // Cross calls fail (each trusts only its own provider's CA) and present no certificate at all.
    await failureOf(tA.fetch(b.url));
    await failureOf(tB.fetch(a.url));
    expect(new Set(a.seen.presented)).toEqual(new Set([fingerprint(gatewayForA.cert)]));
    expect(new Set(b.seen.presented)).toEqual(new Set([fingerprint(gatewayForB.cert)]));
    expect(tA.dispatcher).not.toBe(tB.dispatcher);
  });
});

describe('no session reuse skips the checks', () => {
  test('the peer check runs on every connection, no session is resumed, and a changed server key is caught', async () => {
    const s = await providerAServer(serverA, { closeEach: true });
    const checks: PeerVerification[] = [];
    const t = transport('a', { ...configA, pins: [serverA.spkiPin] }, (v) => checks.push(v));
    for (let i = 0; i < 3; i += 1) expect((await t.fetch(s.url)).status).toBe(200);
    expect(checks).toHaveLength(3);
    expect(checks.every((c) => !c.resumed)).toBe(true);
    expect(s.seen.requests.map((r) => r.resumed)).toEqual([false, false, false]);

    // Same CA, same names, new key: trusted by the CA but not pinned. A resumed session would hide it.
    const rotated = await serverCert(caA);
    s.server.setSecureContext({ cert: rotated.cert, key: rotated.key, ca: caA.cert });
    const err = await t.fetch(s.url).catch((e: Error) => e);
    expect((err as { cause: TlsPeerError }).cause.code).toBe('ERR_VPM_TLS_PIN_MISMATCH');
    expect(checks).toHaveLength(3);
  });
});

// Client certificates issued through an intermediate CA: forwarded by a TLS terminator (the header may
// carry the leaf alone, or the leaf and its chain; client_ca may hold the root and intermediates), and,
// for comparison, presented to the gateway's own TLS listener. Real certificates, real gateways.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import type http from 'node:http';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { Agent, fetch as undiciFetch } from 'undici';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { listen } from '../../src/tls/listeners.ts';
import { parseForwardedChain } from '../../src/tls/forwarded-certificate.ts';
import { ClientCaStore } from '../../src/tls/chain.ts';
import { createProviderTransport } from '../../src/tls/transport.ts';
import {
  issueIntermediateCa,
  issueCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../src/tls/pki.ts';
import { RP_REDIRECT, MOCK_PROVIDER, tokenEndpointVerdict } from '../support/gateway.ts';
import { TempDir, createCa, serverCert, clientCert, DAY } from './pki-fixture.ts';

const HEADER = 'x-ssl-client-cert';
let dir: TempDir;
let root: CertificateAuthority,
  issuing: CertificateAuthority,
  otherRoot: CertificateAuthority,
  otherIssuing: CertificateAuthority;
let strictRoot: CertificateAuthority, underStrict: CertificateAuthority, expiredIssuing: CertificateAuthority;
let leaf: IssuedCertificate,
  leafUnderStrict: IssuedCertificate,
  leafUnderExpired: IssuedCertificate,
  foreignLeaf: IssuedCertificate,
  serverOnlyLeaf: IssuedCertificate;
const closers: (() => Promise<void>)[] = [];

const x = (pem: string) => new X509Certificate(pem);

/** A gateway behind the real listener with one tls_client_auth client; returns its base URL. */
async function startGateway(server: Record<string, unknown>): Promise<string> {
  let handler: http.RequestListener = (_q, r) => void r.writeHead(503).end();
  const s = await listen((q, r) => handler(q, r), server, 0, '127.0.0.1');
  const issuer = `${server.tls ? 'https' : 'http'}://127.0.0.1:${(s.address() as AddressInfo).port}`;
  const raw = {
    issuer,
    keys: { dir: `${dir.path}/keys` },
    server,
    clients: [
      {
        client_id: 'svc-mtls',
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: 'CN=demo-service,O=Test',
        redirect_uris: [RP_REDIRECT],
      },
    ],
    providers: [MOCK_PROVIDER],
  };
  const gateway = await createGateway(
    parseConfig(stringify(raw), 'test.yaml', { factories: ADAPTER_FACTORIES, env: {} }),
    { logger: memoryLogger(), audit: new MemoryAuditLog() },
  );
  handler = gateway.app;
  closers.push(async () => {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
    await gateway.close();
  });
  return issuer;
}

/** The terminator's hop: plain HTTP from a trusted address, with the forwarded certificate(s). */
function viaTerminator(...pems: string[]) {
  const agent = new Agent();
  closers.push(() => agent.close());
  return (u: string, init: RequestInit) =>
    undiciFetch(u, {
      ...(init as object),
      headers: { ...(init.headers as Record<string, string>), [HEADER]: encodeURIComponent(pems.join('')) },
      dispatcher: agent,
    }) as unknown as Promise<Response>;
}

beforeAll(async () => {
  dir = new TempDir();
  // root (pathLen 1) -> issuing CA -> agency leaf: the usual two-tier PKI
  root = await createCa({ commonName: 'Agency Root', pathLength: 1 });
  [issuing, otherRoot, strictRoot] = await Promise.all([
    issueIntermediateCa(root, { commonName: 'Agency Issuing CA' }),
    createCa({ commonName: 'Other Root', pathLength: 1 }),
    createCa({ commonName: 'Strict Root' }), // pathLen 0: no intermediate may follow
  ]);
  [otherIssuing, underStrict, expiredIssuing] = await Promise.all([
    issueIntermediateCa(otherRoot, { commonName: 'Agency Issuing CA' }), // same name, other key
    issueIntermediateCa(strictRoot, { commonName: 'Strict Issuing CA' }),
    issueIntermediateCa(root, {
      commonName: 'Old Issuing CA',
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - DAY),
    }),
  ]);
  [leaf, leafUnderStrict, leafUnderExpired, foreignLeaf, serverOnlyLeaf] = await Promise.all([
    clientCert(issuing, 'demo-service'),
    clientCert(underStrict, 'demo-service'),
    issueCertificate(expiredIssuing, {
      commonName: 'demo-service',
      subjectSuffix: 'O=Test',
      usage: 'client',
      notBefore: new Date(Date.now() - 10 * DAY),
    }),
    clientCert(otherIssuing, 'demo-service'),
    serverCert(issuing),
  ]);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  dir.remove();
});

describe('path validation (ClientCaStore)', () => {
  test('leaf -> intermediate -> root, with the intermediate in client_ca or sent with the leaf', () => {
    expect(new ClientCaStore([x(root.cert), x(issuing.cert)]).verify(x(leaf.cert))).toBe(true);
    expect(new ClientCaStore([x(root.cert)]).verify(x(leaf.cert), [x(issuing.cert)])).toBe(true);
  });

  test('refused: the intermediate missing, only the intermediate configured (no partial chains), a look-alike intermediate of another root', () => {
    expect(new ClientCaStore([x(root.cert)]).verify(x(leaf.cert))).toBe(false);
    expect(new ClientCaStore([x(issuing.cert)]).verify(x(leaf.cert))).toBe(false);
    expect(new ClientCaStore([x(root.cert), x(issuing.cert)]).verify(x(foreignLeaf.cert))).toBe(false);
    expect(new ClientCaStore([x(root.cert)]).verify(x(foreignLeaf.cert), [x(otherIssuing.cert)])).toBe(false);
  });

  test('refused: a root whose pathLen allows no intermediate, an expired intermediate, a leaf not for client authentication, a CA as the leaf', () => {
    expect(new ClientCaStore([x(strictRoot.cert), x(underStrict.cert)]).verify(x(leafUnderStrict.cert))).toBe(false);
    expect(new ClientCaStore([x(root.cert), x(expiredIssuing.cert)]).verify(x(leafUnderExpired.cert))).toBe(false);
    expect(new ClientCaStore([x(root.cert), x(issuing.cert)]).verify(x(serverOnlyLeaf.cert))).toBe(false);
    expect(new ClientCaStore([x(root.cert)]).verify(x(issuing.cert))).toBe(false);
  });

  test("a header value with the chain: the first certificate is the client's", () => {
    const chain = parseForwardedChain(encodeURIComponent(leaf.cert + issuing.cert));
    expect(chain.map((c) => c.subject)).toEqual(['CN=demo-service\nO=Test', 'CN=Agency Issuing CA']);
    expect(parseForwardedChain(encodeURIComponent(leaf.cert + issuing.cert.repeat(5)))).toEqual([]);
  });
});

describe('behind a terminator: tls_client_auth with a certificate from an intermediate CA', () => {
  test('client_ca holds root + intermediate, the header only the leaf', async () => {
    const url = await startGateway({
      client_certificate_header: {
        name: HEADER,
        trusted_proxies: ['127.0.0.1'],
        client_ca: dir.write('root-and-issuing.pem', root.cert + issuing.cert),
      },
    });
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(leaf.cert))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(foreignLeaf.cert))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(leafUnderExpired.cert))).toBe('invalid_client');
  });

  test('client_ca holds only the root, the header the leaf and its intermediate', async () => {
    const url = await startGateway({
      client_certificate_header: {
        name: HEADER,
        trusted_proxies: ['127.0.0.1'],
        client_ca: dir.write('root.pem', root.cert),
      },
    });
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(leaf.cert, issuing.cert))).toBe('invalid_grant');
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(leaf.cert))).toBe('invalid_client');
    expect(await tokenEndpointVerdict(url, 'svc-mtls', viaTerminator(foreignLeaf.cert, otherIssuing.cert))).toBe(
      'invalid_client',
    );
  });
});

describe('the gateway terminating TLS itself (for comparison)', () => {
  test('the client sends leaf + intermediate, client_ca holds the root: OpenSSL builds the path', async () => {
    const tlsCa = await createCa({ commonName: 'Gateway TLS CA' });
    const srv = await serverCert(tlsCa);
    const url = await startGateway({
      tls: {
        cert: dir.write('srv.pem', srv.cert),
        key: dir.write('srv-key.pem', srv.key),
        client_ca: dir.write('root-only.pem', root.cert),
      },
    });
    const as = (name: string, certPem: string, key: string) => {
      const t = createProviderTransport(name, {
        ca: dir.write(`${name}-ca.pem`, tlsCa.cert),
        cert: dir.write(`${name}.pem`, certPem),
        key: dir.write(`${name}-key.pem`, key),
      });
      closers.push(() => t.close());
      return t.fetch as unknown as (u: string, init: RequestInit) => Promise<Response>;
    };
    expect(await tokenEndpointVerdict(url, 'svc-mtls', as('with-chain', leaf.cert + issuing.cert, leaf.key))).toBe(
      'invalid_grant',
    );
    expect(await tokenEndpointVerdict(url, 'svc-mtls', as('leaf-only', leaf.cert, leaf.key))).toBe('invalid_client');
  });
});

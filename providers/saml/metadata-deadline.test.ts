// metadata_url against a slow or hostile metadata host (real TLS with a client certificate, real signed
// metadata): a fetch has one deadline for all of it (metadata_timeout_seconds), which a body dripping a
// byte at a time does not escape; while the last good metadata is valid a due refresh runs in the
// background and logins go on with it; only a login with no valid metadata waits, and ends at the deadline.
import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { createProviderTransport, type DedicatedTransport } from '../../src/tls/transport.ts';
import { adapterDeps, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { setClock } from '../../test/support/clock.ts';
import { SAML_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { MetadataIdpSource, urlLoader } from './idp-source.ts';
import { factory, type SamlAdapter } from './index.ts';
import { generateKeyPair, type KeyPair } from './keys.ts';
import { createTestIdp, type TestIdp } from './test-idp/index.ts';

const BASE = 'https://gateway.test';
const START = {
  browser: TEST_BROWSER_DIGEST,
  state: 'S'.repeat(27),
  callbackUrl: `${BASE}/broker/callback/eidas`,
  locale: 'en',
  correlationId: 'c',
} as const;
const HOUR = 3_600_000;

/** good: the signed metadata; drip: headers, then a byte every 200 ms for ever (never idle long enough for
 * the transport's idle timeouts); huge: 1 MiB without Content-Length, then held open */
let mode: 'good' | 'drip' | 'huge' = 'good';
let dir: string;
let idpKey: KeyPair;
let idp: TestIdp;
let server: Server;
let url: string;
let tls: { ca: string; cert: string; key: string };
const closers: (() => Promise<unknown>)[] = [];

const file = async (name: string, content: string) => {
  const path = join(dir, name);
  await writeFile(path, content, { mode: 0o600 });
  return path;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vpm-saml-deadline-'));
  idpKey = await generateKeyPair('idp.test');
  idp = await createTestIdp({
    baseUrl: 'https://idp.test',
    key: idpKey,
    sp: { entityId: 'unused', signingCert: idpKey.cert },
  });
  const ca = await createCa({ commonName: 'IdP metadata CA' });
  const srv = await issueCertificate(ca, { commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const client = await issueCertificate(ca, { commonName: 'vpm-gateway', usage: 'client' });
  tls = {
    ca: await file('ca.pem', ca.cert),
    cert: await file('client.pem', client.cert),
    key: await file('client.key', client.key),
  };
  server = createServer(
    { cert: srv.cert, key: srv.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true },
    (_req, res) => {
      res.setHeader('content-type', 'application/samlmetadata+xml');
      if (mode === 'good') return void res.end(idp.metadata());
      if (mode === 'huge') return void res.write(Buffer.alloc(1024 * 1024, 0x20));
      res.write('<');
      const drip = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(drip));
    },
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
});
afterEach(async () => {
  mode = 'good';
  for (const close of closers.splice(0)) await close();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
  await rm(dir, { recursive: true, force: true });
});

/** Resolves when the metadata host next receives a request. */
const requested = () => new Promise((ok) => server.once('request', ok));

function source(timeoutMs: number, maxBytes = 5 * 1024 * 1024) {
  const transport: DedicatedTransport = createProviderTransport('eidas', tls);
  closers.push(() => transport.close());
  const logger = memoryLogger();
  const s = new MetadataIdpSource({
    origin: url,
    load: urlLoader(url, transport.fetch, maxBytes, timeoutMs),
    binding: 'redirect',
    refreshMs: HOUR,
    requireValidUntil: true,
    signingCertificates: [idpKey.cert],
    logger,
  });
  return { s, logger };
}

async function adapterFor(extra: Record<string, unknown>) {
  const store = new MemoryStore();
  const logger = memoryLogger();
  const adapter = (await factory.create(
    factory.schema.parse({
      ...SAML_TEST_ENTRY,
      metadata_url: url,
      metadata_signing_certificates: [await file('signer.pem', idpKey.cert)],
      tls,
      ...extra,
    }),
    adapterDeps(join(dir, 'keys'), { baseUrl: BASE, store, logger }),
  )) as SamlAdapter;
  closers.push(async () => {
    await adapter.close();
    await store.close();
  });
  return { adapter, logger };
}

test('a due refresh that a dripping host stalls: the login goes on with the last good metadata meanwhile', async () => {
  const { s, logger } = source(2000);
  const t0 = Date.now();
  const good = await s.load(t0);
  mode = 'drip';
  const asked = requested();
  // the refresh is due: this login starts it and goes on at once with the metadata still valid
  await expect(s.current(t0 + HOUR)).resolves.toBe(good);
  expect(logger.lines.some((l) => l.includes('could not be refreshed'))).toBe(false); // not ended yet
  await asked; // the refresh reached the host, which drips
  await expect(s.current(t0 + HOUR)).resolves.toBe(good); // and a second login does not wait either
  // the deadline ends it, whatever the drip: logged, the last good metadata kept
  await s.settled();
  expect(logger.lines.find((l) => l.includes('SAML IdP metadata could not be refreshed'))).toContain(
    'metadata URL did not answer in full within 2 s',
  );
  await expect(s.current(t0 + HOUR)).resolves.toBe(good);
});

test('through the adapter: a login start completes while the refresh is stalled', async () => {
  const { adapter, logger } = await adapterFor({ metadata_timeout_seconds: 2 });
  await expect(adapter.start(START)).resolves.toMatchObject({ action: { type: 'redirect' } });
  mode = 'drip';
  // an hour later (only the clock moves; sockets and timers stay real) the refresh is due
  setClock(Date.now() + HOUR);
  try {
    const asked = requested();
    await expect(adapter.start(START)).resolves.toMatchObject({ action: { type: 'redirect' } });
    await asked; // the refresh it started is being dripped to, and has not ended
    expect(logger.lines.some((l) => l.includes('could not be refreshed'))).toBe(false);
  } finally {
    jest.useRealTimers();
  }
});

test('no valid metadata and a dripping host: the gateway starts, and a login ends at the deadline', async () => {
  mode = 'drip';
  const { adapter, logger } = await adapterFor({ metadata_timeout_seconds: 1 });
  expect(logger.lines.find((l) => l.includes('could not be loaded at startup'))).toContain(
    'metadata URL did not answer in full within 1 s',
  );
  await expect(adapter.start(START)).rejects.toMatchObject({
    code: 'temporarily_unavailable',
    detail: 'IdP metadata is not available',
  });
  expect(logger.lines.find((l) => l.includes('could not be refreshed'))).toContain(
    'metadata URL did not answer in full within 1 s',
  );
});

test('metadata past max_metadata_bytes without a Content-Length is refused at the limit', async () => {
  mode = 'huge';
  // a deadline far beyond the test's: refused by size as the bytes arrive, not by the clock
  const { s } = source(300_000, 64 * 1024);
  await expect(s.load()).rejects.toThrow('metadata larger than 65536 bytes');
});

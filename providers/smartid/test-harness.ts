// What the Smart-ID tests share: the test RP API on its own HTTPS port (its own CA, its TLS key pinned),
// an adapter built from a real provider entry, its pages served on a real port, and a user who follows
// them (./test-user.ts) with plain HTTP the way a browser without scripts would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Store } from '../../src/store/store.ts';
import type { MemoryAuditLog } from '../../src/audit/events.ts';
import { adapterDeps, type MemoryLogger } from '../../test/support/broker.ts';
import { SMARTID_TEST_ENTRY } from '../../test/support/provider-entries.ts';
import { asTestBrowser, type Visit } from './test-user.ts';
import type { SmartIdAdapter } from './adapter.ts';
import { factory } from './index.ts';
import type { TestAccount } from './test-rp-api/accounts.ts';
import { TestCa } from './test-rp-api/ca.ts';
import { startTestRpApi, type RunningTestRpApi } from './test-rp-api/listen.ts';
import type { PhoneAction } from './test-rp-api/sessions.ts';

export const RP_UUID = SMARTID_TEST_ENTRY.relying_party_uuid;
export const RP_NAME = SMARTID_TEST_ENTRY.relying_party_name;

export interface HarnessOptions {
  accounts?: TestAccount[];
  /** extra entry fields (service_names, certificate_level…) */
  entry?: Record<string, unknown>;
  /** pin the RP API's real TLS key (default), another key only, or both (SK's yearly rotation) */
  pin?: 'right' | 'wrong' | 'rotation';
  maintenance?: boolean;
  /** where the adapter keeps its logins (default: in memory) */
  store?: Store;
  /** speak RP API v2 (its base URL ends in /v2/) */
  v2?: boolean;
  /** check revocation with the test CA's OCSP responder (required or not) */
  ocsp?: { required: boolean; nonce?: boolean; responder_certificates?: string[] };
  /** the adapter runs as in production (default: development) */
  production?: boolean;
  /** the CA hierarchy the RP API issues under (one per test file: RSA generation is slow) */
  ca?: TestCa;
  /** another harness's test RP API (and its CA), for a second adapter instance in front of it; left running */
  rp?: RunningTestRpApi;
}

export interface Harness {
  adapter: SmartIdAdapter;
  rp: RunningTestRpApi;
  /** origin of the server of the adapter's pages (the gateway's base URL) */
  origin: string;
  callbackUrl: string;
  logger: MemoryLogger;
  audit: MemoryAuditLog;
  dir: string;
  /** a request to the test RP API's own pages (the app opening a device link), trusting its TLS CA */
  app(url: string, form?: Record<string, string>): Promise<Visit>;
  /** the person's phone answers their latest session through the control API */
  phone(semanticsIdentifier: string, action: PhoneAction): Promise<void>;
  /** SK forgets a person's running session (as it does over 5 minutes old): its poll answers 404 */
  forget(semanticsIdentifier: string): Promise<void>;
  /** the device holder's phone scans a QR code (the test RP API checks it as the app does): its HTTP status */
  scan(link: string, action?: PhoneAction): Promise<{ status: number; title?: string }>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ca = options.ca ?? (await TestCa.create());
  const rp =
    options.rp ??
    (await startTestRpApi({
      ca,
      relyingParties: [{ uuid: RP_UUID, name: RP_NAME }],
      ...(options.accounts ? { accounts: options.accounts } : {}),
      ...(options.maintenance ? { maintenance: true } : {}),
    }));
  const dir = mkdtempSync(join(tmpdir(), 'smartid-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const other = options.pin === 'wrong' || options.pin === 'rotation' ? (await ca.issueServer()).certPem : '';
  const pinned = options.pin === 'wrong' ? other : `${other}${rp.serverCertPem}`;
  const app = express();
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = factory.schema.parse({
    ...SMARTID_TEST_ENTRY,
    url: options.v2 ? rp.url.replace(/v3\/$/, 'v2/') : rp.url,
    ...(options.v2 ? { api_version: 'v2' } : {}),
    ca_certificates: [file('sk-ca.pem', ca.pem)],
    pinned_certificates: [file('rp-api.pem', pinned)],
    tls: { ca: file('rp-api-ca.pem', rp.tlsCaPem) },
    long_poll_ms: 1000,
    ...(options.ocsp ? { ocsp: { url: rp.ocspUrl, ...options.ocsp } } : {}),
    ...options.entry,
  });
  const deps = {
    ...adapterDeps(dir, { baseUrl: origin }),
    ...(options.store ? { store: options.store } : {}),
    ...(options.production ? { production: true } : {}),
  };
  const adapter = (await factory.create(config, deps)) as SmartIdAdapter;
  app.use((_req, res, next) => {
    res.locals.cspNonce = 'test-nonce';
    next();
  });
  adapter.routes(app, adapter.pagesPath);
  const control = new Agent({ connect: { ca: rp.tlsCaPem } });
  return {
    adapter,
    rp,
    origin,
    callbackUrl: `${origin}/broker/callback/${adapter.id}`,
    logger: deps.logger,
    audit: deps.audit,
    dir,
    async app(url, form) {
      const res = await undiciFetch(url, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        dispatcher: control,
        headers: { ...asTestBrowser(url), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      const location = res.headers.get('location');
      return {
        status: res.status,
        location: location ? new URL(location, url).toString() : undefined,
        body: await res.text(),
      };
    },
    async phone(semanticsIdentifier, action) {
      const url = `${rp.controlUrl}/accounts/${semanticsIdentifier}/${action}`;
      const res = await undiciFetch(url, { method: 'POST', dispatcher: control });
      if (res.status !== 204) throw new Error(`the test phone found no session (${res.status})`);
    },
    async forget(semanticsIdentifier) {
      const listed = await undiciFetch(`${rp.controlUrl}/sessions`, { dispatcher: control });
      const sessions = (await listed.json()) as { sessionID: string; semanticsIdentifier: string }[];
      const id = sessions.find((s) => s.semanticsIdentifier === semanticsIdentifier)?.sessionID ?? 'none';
      const res = await undiciFetch(`${rp.controlUrl}/sessions/${id}`, { method: 'DELETE', dispatcher: control });
      if (res.status !== 204) throw new Error(`the test RP API had no session to forget (${res.status})`);
    },
    async scan(link, action = 'confirm') {
      const res = await undiciFetch(`${rp.controlUrl}/scan`, {
        method: 'POST',
        dispatcher: control,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ link, action }),
      });
      const text = await res.text();
      return { status: res.status, ...(text ? { title: (JSON.parse(text) as { title: string }).title } : {}) };
    },
    async close() {
      await control.close();
      await adapter.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.rp) await rp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` against a harness of its own (a pin, maintenance or entry no other test shares), closed afterwards. */
export async function withHarness<T>(options: HarnessOptions, body: (h: Harness) => Promise<T>): Promise<T> {
  const h = await startHarness(options);
  try {
    return await body(h);
  } finally {
    await h.close();
  }
}

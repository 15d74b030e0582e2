// What the Smart-ID tests share: the test RP API on its own HTTPS port (its own CA, its TLS key pinned),
// an adapter built from a real provider entry, its pages served on a real port, and a user who follows
// them with plain HTTP the way a browser without scripts would.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Agent, fetch as undiciFetch } from 'undici';
import type { StartAction } from '../../src/broker/adapter.ts';
import type { Store } from '../../src/store/store.ts';
import { adapterDeps, type MemoryLogger, testBrowserCookie } from '../../test/support/broker.ts';
import { SMARTID_TEST_ENTRY } from '../../test/support/provider-entries.ts';
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
  ocsp?: { required: boolean; nonce?: boolean };
  /** the CA hierarchy the RP API issues under (one per test file: RSA generation is slow) */
  ca?: TestCa;
}

export interface Harness {
  adapter: SmartIdAdapter;
  rp: RunningTestRpApi;
  /** origin of the server of the adapter's pages (the gateway's base URL) */
  origin: string;
  callbackUrl: string;
  logger: MemoryLogger;
  dir: string;
  /** a request to the test RP API's own pages (the app opening a device link), trusting its TLS CA */
  app(url: string, form?: Record<string, string>): Promise<Visit>;
  /** the person's phone answers their latest session through the control API */
  phone(semanticsIdentifier: string, action: PhoneAction): Promise<void>;
  /** the device holder's phone scans a QR code (the test RP API checks it as the app does): its HTTP status */
  scan(link: string, action?: PhoneAction): Promise<{ status: number; title?: string }>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ca = options.ca ?? (await TestCa.create());
  const rp = await startTestRpApi({
    ca,
    relyingParties: [{ uuid: RP_UUID, name: RP_NAME }],
    ...(options.accounts ? { accounts: options.accounts } : {}),
    ...(options.maintenance ? { maintenance: true } : {}),
  });
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
  const deps = { ...adapterDeps(dir, { baseUrl: origin }), ...(options.store ? { store: options.store } : {}) };
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
      await rp.close();
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

export interface Visit {
  status: number;
  location: string | undefined;
  body: string;
}

/** The headers of the test browser (the one test logins begin in: its binding cookie) for `url`. */
export const asTestBrowser = (url: string): Record<string, string> => ({
  cookie: testBrowserCookie(new URL(url).origin),
});

/** A page of the adapter as the test browser sees it (`browser`: as another browser, without the cookie). */
export async function visit(url: string, form?: Record<string, string>, browser = asTestBrowser(url)): Promise<Visit> {
  const res = await fetch(url, {
    method: form ? 'POST' : 'GET',
    redirect: 'manual',
    headers: { ...browser, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    ...(form ? { body: new URLSearchParams(form) } : {}),
  });
  const location = res.headers.get('location');
  return {
    status: res.status,
    location: location ? new URL(location, url).toString() : undefined,
    body: await res.text(),
  };
}

/** Where the user ended: at the broker callback (its query), or on a page of ours. */
export type Arrival = { callback: Record<string, string>; endPage?: string } | { page: Visit };

/**
 * The user's way through the adapter's pages without scripts: the form, the personal code, the phone's
 * answer (when given) and the waiting page until it leads to the broker callback. An end page is
 * followed through its button, and reported.
 */
export async function walk(
  h: Harness,
  action: StartAction,
  person: { country: string; code: string } | 'cancel',
  phone?: PhoneAction,
): Promise<Arrival> {
  if (action.type !== 'redirect') throw new Error('Smart-ID starts with a redirect');
  const form = await visit(action.url);
  if (form.status !== 200) return { page: form };
  const handle = new URL(action.url).searchParams.get('h')!;
  const base = `${h.origin}${h.adapter.pagesPath}`;
  const hop =
    person === 'cancel'
      ? await visit(`${base}/cancel`, { h: handle })
      : await visit(`${base}/login`, { h: handle, ...person });
  if (phone && person !== 'cancel') {
    await h.phone(`PNO${person.country}-${person.code}`, phone);
  }
  return follow(h, hop);
}

/** Follow redirects and an end page's button until the broker callback (or a page that stops the user). */
export async function follow(h: Harness, first: Visit): Promise<Arrival> {
  const base = `${h.origin}${h.adapter.pagesPath}`;
  let hop = first;
  let endPage: string | undefined;
  for (let i = 0; i < 10; i += 1) {
    if (hop.location?.startsWith(h.callbackUrl))
      return { callback: Object.fromEntries(new URL(hop.location).searchParams), ...(endPage ? { endPage } : {}) };
    if (hop.location) {
      hop = await visit(hop.location);
      continue;
    }
    const back = /<a class="button primary" href="([^"]+)"/.exec(hop.body)?.[1]?.replace(/&amp;/g, '&');
    if (hop.status !== 200 || !back) return { page: hop };
    endPage = hop.body;
    hop = { status: 303, location: new URL(back, hop.location ?? base).toString(), body: '' };
  }
  throw new Error('no end to the Smart-ID pages');
}

/**
 * Web2App: the form's "open the app" button, the app opening the device link (the test RP API checks its
 * authCode) and confirming or refusing, and the browser's return; `tamper` may change the return URL
 * the app sends the browser to, `returnIn` be the headers of another browser it opens it in. Ends where
 * walk() ends.
 */
export async function walkWeb2App(
  h: Harness,
  action: StartAction,
  answer: 'confirm' | 'refuse',
  tamper: (returnUrl: URL) => void = () => {},
  returnIn?: Record<string, string>,
): Promise<Arrival> {
  if (action.type !== 'redirect') throw new Error('Smart-ID starts with a redirect');
  const handle = new URL(action.url).searchParams.get('h')!;
  const toApp = await visit(`${h.origin}${h.adapter.pagesPath}/app`, { h: handle });
  if (!toApp.location?.startsWith(h.rp.url.replace(/v3\/$/, ''))) return { page: toApp };
  const opened = await h.app(toApp.location);
  if (opened.status !== 200) return { page: opened };
  const token = /name="sessionToken" value="([^"]+)"/.exec(opened.body)![1]!;
  const answered = await h.app(new URL('/device-link', toApp.location).toString(), { sessionToken: token, answer });
  const back = new URL(answered.location!);
  tamper(back);
  return follow(h, await visit(back.toString(), undefined, returnIn));
}

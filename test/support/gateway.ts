// Starts the whole gateway for end-to-end tests: real HTTP on 127.0.0.1, the real config loader, real
// signing keys, and a real OpenID Connect client library (openid-client) playing the agency service
// (./agency-client.ts, exported from here too).
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import type * as oidc from 'openid-client';
import { parseConfig, type GatewayConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import type { AdapterFactory } from '../../src/registry/factory.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.ts';
import { MemoryAuditLog, type AuditEvent } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { RP_REDIRECT, RP_SECRET, rpConfig } from './agency-client.ts';
import { MOCK_BANK, MOCK_PROVIDER } from './provider-entries.ts';

export { MOCK_BANK, MOCK_PROVIDER };

// the agency service's side: its openid-client configuration, a login begun, walked and its code exchanged
export * from './agency-client.ts';

/** Keys are generated once per test process (RSA generation is slow) and shared by its gateways. */
const keyDir = mkdtempSync(join(tmpdir(), 'vpm-keys-'));

export interface TestGatewayOptions extends GatewayOptions {
  /** raw provider entries as they would stand in the YAML file (default: MOCK_PROVIDER, MOCK_BANK) */
  providers?: Record<string, unknown>[];
  /** extra raw client entries; the default client `rp` is always there */
  clients?: Record<string, unknown>[];
  /** other top-level settings (store, ttl, audit...) */
  settings?: Record<string, unknown>;
  /** the adapter kinds the configuration may name (default: the gateway's, src/registry/adapters.ts) */
  factories?: ReadonlyMap<string, AdapterFactory>;
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
    config = parseConfig(stringify(raw), 'test.yaml', { factories: options.factories ?? ADAPTER_FACTORIES, env: {} });
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

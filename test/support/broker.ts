// A broker, or the dependencies of one adapter, over in-memory store, audit log and logger: what a
// test of one adapter or of the broker needs without a whole gateway.
import type { IncomingMessage } from 'node:http';
import type { AdapterDeps, ProviderAdapter } from '../../src/broker/adapter.ts';
import { Broker } from '../../src/login/broker.ts';
import { browserDigest, LoginStates } from '../../src/login/login-state.ts';
import { browserBinding } from '../../src/web/browser-binding.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { MemoryStore } from '../../src/store/memory.ts';

export const TEST_BASE_URL = 'https://gateway.test';

/** the binding value of the browser a test login begins in and answers through (src/web/browser-binding.ts) */
export const TEST_BROWSER = 'test-browser-binding-value-0123456789abcdef';
/** what the login state keeps of it, and adapters get as StartContext.browser */
export const TEST_BROWSER_DIGEST = browserDigest(TEST_BROWSER);

/** a logger that keeps its lines, for asserting what was (not) logged */
export type MemoryLogger = ReturnType<typeof memoryLogger>;

export interface TestBroker {
  broker: Broker;
  store: MemoryStore;
  states: LoginStates;
  audit: MemoryAuditLog;
  logger: MemoryLogger;
}

export interface BrokerForOptions {
  /** the callback URL for a provider id (default: `${TEST_BASE_URL}/broker/callback/<id>`) */
  callbackUrl?: string | ((providerId: string) => string);
  store?: MemoryStore;
  audit?: MemoryAuditLog;
  logger?: MemoryLogger;
  /** login state lifetime in seconds (default 300) */
  ttl?: number;
}

/** A broker in front of `adapters`, each registered under its own id. */
export function brokerFor(adapters: ProviderAdapter | ProviderAdapter[], options: BrokerForOptions = {}): TestBroker {
  const store = options.store ?? new MemoryStore();
  const states = new LoginStates(store, options.ttl ?? 300);
  const audit = options.audit ?? new MemoryAuditLog();
  const logger = options.logger ?? memoryLogger();
  const { callbackUrl } = options;
  const broker = new Broker({
    states,
    audit,
    logger,
    adapters: new Map([adapters].flat().map((a) => [a.id, a] as const)),
    callbackUrl:
      typeof callbackUrl === 'function' ? callbackUrl : (id) => callbackUrl ?? `${TEST_BASE_URL}/broker/callback/${id}`,
  });
  return { broker, store, states, audit, logger };
}

/** As the gateway's AdapterDeps.browserOf: the digest of the binding cookie a request carries (a test
 * sends TEST_BROWSER under the name the base URL's scheme gives it: testBrowserCookie). */
export function testBrowserOf(baseUrl: string): (req: IncomingMessage) => string | undefined {
  return browserBinding(baseUrl, 600).digestOf;
}

/** The Cookie header of the test browser for pages under `baseUrl`. */
export const testBrowserCookie = (baseUrl: string): string => `${browserBinding(baseUrl, 600).name}=${TEST_BROWSER}`;

/** What the gateway hands an adapter factory, in memory, outside production, keys under `keyDir`. */
export function adapterDeps(
  keyDir: string,
  options: { baseUrl?: string; logger?: MemoryLogger; store?: MemoryStore } = {},
): AdapterDeps & { store: MemoryStore; audit: MemoryAuditLog; logger: MemoryLogger } {
  return {
    store: options.store ?? new MemoryStore(),
    audit: new MemoryAuditLog(),
    logger: options.logger ?? memoryLogger(),
    baseUrl: options.baseUrl ?? TEST_BASE_URL,
    production: false,
    keyDir,
    browserOf: testBrowserOf(options.baseUrl ?? TEST_BASE_URL),
  };
}

// The upstream OIDC adapter against a real node-oidc-provider (the test OP) over HTTPS with a dev CA,
// through the broker exactly as the gateway runs it. Hostile tokens are produced by the test OP itself
// (its token endpoint answer rewritten), so they travel the real protocol and TLS path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { adapterConformance, type AdapterHarness, type Callback } from '../../test/support/adapter-conformance.ts';
import { Broker, BrokerError } from '../../src/broker/broker.ts';
import { LoginStates } from '../../src/broker/login-state.ts';
import type { AdapterDeps, StartAction } from '../../src/broker/adapter.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { createOidcAdapter, oidcProviderSchema, type OidcAdapter, type OidcProviderInput } from './index.ts';
import { startTestOp, EIDAS, type LoginChoice, type TestOp } from './test-op/index.ts';
import { makeGatewayKeyFiles, providerEntry, testOpClient, type ClientVariant, type GatewayKeyFiles } from './test-op/fixtures.ts';

const CALLBACK = 'https://gateway.test/providers/test-eid/callback';
const SUBJECT = 'PNOLV-010180-15097';
const VARIANTS: ClientVariant[] = ['client_secret', 'private_key_jwt', 'encrypted', 'tls_client_auth'];

let dir: string;
let keys: GatewayKeyFiles;
let op: TestOp;
const logger = memoryLogger();

function deps(): AdapterDeps {
  return { store: new MemoryStore(), audit: new MemoryAuditLog(), logger, baseUrl: 'https://gateway.test', production: false, keyDir: join(dir, 'keys') };
}

async function adapterFor(variant: ClientVariant, override: Partial<OidcProviderInput> = {}): Promise<OidcAdapter> {
  const config = oidcProviderSchema.parse({ ...providerEntry(op, variant, keys), ...override });
  return createOidcAdapter(config, deps());
}

function toCallback(url: URL): Callback {
  return { method: 'GET', params: Object.fromEntries(url.searchParams) };
}

/** One login through the broker; resolves to the identity or the BrokerError. */
async function login(adapter: OidcAdapter, choice: LoginChoice = {}, acr?: Loa) {
  const store = new MemoryStore();
  const audit = new MemoryAuditLog();
  const broker = new Broker({ states: new LoginStates(store, 300), audit, logger, adapters: new Map([[adapter.id, adapter]]), callbackUrl: () => CALLBACK });
  try {
    const { action } = await broker.begin({ uid: 'uid', clientId: 'svc', providerId: adapter.id, acr, locale: 'lv', correlationId: 'corr' });
    const cb = toCallback(await op.login((action as Extract<StartAction, { type: 'redirect' }>).url, choice));
    return await broker.complete(adapter.id, cb.params, cb.method);
  } catch (err) {
    return err as BrokerError;
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-test-'));
  keys = await makeGatewayKeyFiles(dir);
  // the OP needs the gateway's public keys, the gateway needs the OP's address: keys first, then the OP
  op = await startTestOp({ clients: VARIANTS.map((v) => testOpClient(v, CALLBACK, keys)) });
});

afterAll(async () => {
  await op?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete op.tamper.idToken;
  delete op.tamper.userinfo;
  delete op.tamper.tokenError;
});

describe('logins against the test OP over HTTPS', () => {
  test.each(VARIANTS)('%s: a valid login yields the verified identity', async (variant) => {
    const adapter = await adapterFor(variant);
    try {
      const result = await login(adapter, { acr: EIDAS.high, amr: ['smart_card'] }, 'high');
      if (result instanceof Error) throw new Error(`login failed: ${result.message}`);
      const { identity } = result as Exclude<typeof result, BrokerError>;
      expect(identity).toMatchObject({ subject: SUBJECT, givenName: 'Jānis', familyName: 'Bērziņš', country: 'LV', loa: 'high', amr: ['smart_card'], idp: 'test-eid' });
    } finally {
      await adapter.close();
    }
  });
});

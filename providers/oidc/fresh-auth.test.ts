// Freshness of the upstream OIDC login, through the broker against the real test OP: every request asks
// for a new authentication (prompt=login, max_age), and the ID token's auth_time must lie within this
// login. Each login's binding to its own request is in ./request-binding.test.ts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, importJWK, type JWK, type JWTPayload } from 'jose';
import { BrokerError } from '../../src/login/broker-error.ts';
import { memoryLogger } from '../../src/logger.ts';
import { adapterDeps, brokerFor, TEST_BROWSER, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { createOidcAdapter, oidcProviderSchema, type OidcAdapter, type OidcProviderInput } from './index.ts';
import { startTestOp, EIDAS, type LoginChoice, type TestOp } from './test-op/index.ts';
import { loginAtTestOp } from './test-logins.ts';
import { makeGatewayKeyFiles, providerEntry, testOpClient, type GatewayKeyFiles } from './test-op/fixtures.ts';

const CALLBACK = 'https://gateway.test/broker/callback/test-eid';
const SUBJECT = 'PNOLV-010180-15097';

let dir: string;
let keys: GatewayKeyFiles;
let op: TestOp;
const logger = memoryLogger();

async function adapterFor(override: Partial<OidcProviderInput> = {}): Promise<OidcAdapter> {
  const config = oidcProviderSchema.parse({ ...providerEntry(op, 'client_secret', keys), ...override });
  return createOidcAdapter(config, adapterDeps(join(dir, 'keys'), { logger }));
}

const brokerOf = (adapter: OidcAdapter) => brokerFor(adapter, { callbackUrl: CALLBACK, logger });

/** One login through the broker (the test OP's browser logs in); the identity or the BrokerError. */
async function login(adapter: OidcAdapter, choice: LoginChoice = { acr: EIDAS.high }) {
  return (await loginAtTestOp(op, adapter, { callbackUrl: CALLBACK, logger, choice, locale: 'en' })).result;
}

/** Re-sign (altered) ID token claims with the OP's own key: a genuine signature over what we choose. */
async function resign(claims: JWTPayload, opKey: JWK): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: opKey.kid!, typ: 'JWT' })
    .sign(await importJWK(opKey, 'RS256'));
}

function refused(result: unknown, detail: RegExp): void {
  expect(result).toBeInstanceOf(BrokerError);
  expect(result).toMatchObject({ code: 'invalid_response', login: { uid: 'uid' } });
  expect((result as BrokerError).detail).toMatch(detail);
}

let adapter: OidcAdapter;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-fresh-'));
  keys = await makeGatewayKeyFiles(dir);
  op = await startTestOp({ clients: [testOpClient('client_secret', CALLBACK, keys)] });
  adapter = await adapterFor();
});

afterAll(async () => {
  await adapter?.close();
  await op?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  delete op.tamper.idToken;
  delete op.tamper.ignoreFreshness;
});

describe('every upstream request asks for a new authentication', () => {
  test('prompt=login and max_age=0 by default; a configured max_age is sent as it is', async () => {
    const relaxed = await adapterFor({ max_age: 120 });
    try {
      for (const [a, maxAge] of [
        [adapter, '0'],
        [relaxed, '120'],
      ] as const) {
        const started = await a.start({
          browser: TEST_BROWSER_DIGEST,
          state: 'C'.repeat(27),
          callbackUrl: CALLBACK,
          locale: 'en',
          correlationId: 'c',
        });
        const url = new URL((started.action as { url: string }).url);
        expect(url.searchParams.get('prompt')).toBe('login');
        expect(url.searchParams.get('max_age')).toBe(maxAge);
      }
    } finally {
      await relaxed.close();
    }
  });

  test('freshness cannot be switched off: max_age must be a whole number of seconds from 0 to 600', () => {
    for (const maxAge of [-1, null, 601, 1.5, 'off']) {
      expect(
        oidcProviderSchema.safeParse({ ...providerEntry(op, 'client_secret', keys), max_age: maxAge }).success,
      ).toBe(false);
    }
    expect(oidcProviderSchema.parse(providerEntry(op, 'client_secret', keys)).max_age).toBe(0);
  });
});

describe('the ID token auth_time belongs to this login', () => {
  test('a genuine login: the identity carries the upstream auth_time', async () => {
    let upstream: unknown;
    op.tamper.idToken = (claims, key) => {
      upstream = claims.auth_time;
      return resign(claims, key);
    };
    const result = await login(adapter);
    expect(result).toMatchObject({ identity: { subject: SUBJECT } });
    expect(typeof upstream).toBe('number');
    expect((result as { identity: { authTime: number } }).identity.authTime).toBe(upstream);
  });

  test('an upstream clock a little behind ours (within clock_tolerance): accepted, and its auth_time kept', async () => {
    let reported = 0;
    op.tamper.idToken = (claims, key) => {
      reported = (claims.auth_time as number) - 20;
      return resign({ ...claims, auth_time: reported }, key);
    };
    const result = await login(adapter);
    expect(result).toMatchObject({ identity: { subject: SUBJECT, authTime: reported } });
  });

  test('an ID token without auth_time is refused', async () => {
    op.tamper.idToken = ({ auth_time: _dropped, ...claims }, key) => resign(claims, key);
    refused(await login(adapter), /ID token auth_time is missing/);
  });

  test('an auth_time from before this login started (a reused session) is refused', async () => {
    op.tamper.idToken = (claims, key) => resign({ ...claims, auth_time: Math.floor(Date.now() / 1000) - 600 }, key);
    refused(await login(adapter), /ID token auth_time is \d+ s before this login started \(allowed 30 s\)/);
  });

  test('an auth_time in the future (beyond the clock tolerance) is refused', async () => {
    op.tamper.idToken = (claims, key) => resign({ ...claims, auth_time: Math.floor(Date.now() / 1000) + 600 }, key);
    refused(await login(adapter), /ID token auth_time is \d+ s in the future/);
  });

  test('the clock tolerance bounds a future auth_time: 90 s ahead is beyond the 30 s allowed', async () => {
    op.tamper.idToken = (claims, key) => resign({ ...claims, auth_time: Math.floor(Date.now() / 1000) + 90 }, key);
    refused(await login(adapter), /ID token auth_time is \d+ s in the future \(allowed clock skew 30 s\)/);
  });

  test('a configured max_age widens the window by that much and no more', async () => {
    const relaxed = await adapterFor({ max_age: 120 });
    const agedBy = (seconds: number) => (claims: JWTPayload, key: JWK) =>
      resign({ ...claims, auth_time: Math.floor(Date.now() / 1000) - seconds }, key);
    try {
      op.tamper.idToken = agedBy(100);
      expect(await login(relaxed)).toMatchObject({ identity: { subject: SUBJECT } });
      // 120 s of max_age and 30 s of clock tolerance
      op.tamper.idToken = agedBy(200);
      refused(await login(relaxed), /ID token auth_time is \d+ s before this login started \(allowed 150 s\)/);
    } finally {
      await relaxed.close();
    }
  });

  test('an upstream that ignores prompt=login and max_age answers from its old session: refused', async () => {
    // the OP keeps one browser's session: a first, genuine login, left open for ten minutes
    op.tamper.ignoreFreshness = true;
    const { store, broker } = brokerOf(adapter);
    try {
      const first = await broker.begin({
        browser: TEST_BROWSER,
        uid: 'uid',
        clientId: 'svc',
        providerId: adapter.id,
        locale: 'en',
        correlationId: 'first',
      });
      const firstBack = await op.login(
        (first.action as { url: string }).url,
        { acr: EIDAS.high },
        { keepSession: true },
      );
      await expect(
        broker.complete(adapter.id, Object.fromEntries(firstBack.searchParams), 'GET', TEST_BROWSER),
      ).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      op.ageSessions(600);
      const second = await broker.begin({
        browser: TEST_BROWSER,
        uid: 'uid',
        clientId: 'svc',
        providerId: adapter.id,
        locale: 'en',
        correlationId: 'second',
      });
      // no login page this time: the OP answers at once from its session
      const secondBack = await op.login(
        (second.action as { url: string }).url,
        { error: { error: 'not_asked' } },
        { keepSession: true },
      );
      const result = await broker
        .complete(adapter.id, Object.fromEntries(secondBack.searchParams), 'GET', TEST_BROWSER)
        .catch((e: unknown) => e);
      refused(result, /ID token auth_time is 6\d\d s before this login started/);
    } finally {
      await store.close();
    }
  });
});

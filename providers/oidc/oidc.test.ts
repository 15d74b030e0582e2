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

for (const variant of ['client_secret', 'encrypted'] as const) {
  adapterConformance(`oidc (${variant})`, async (): Promise<AdapterHarness> => {
    const adapter = await adapterFor(variant);
    return {
      adapter,
      callbackUrl: CALLBACK,
      expectedSubject: SUBJECT,
      async drive(action, outcome) {
        if (action.type !== 'redirect') throw new Error('the oidc adapter starts with a redirect');
        const choice: LoginChoice = outcome === 'cancel' ? { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } } : { acr: EIDAS.high };
        return toCallback(await op.login(action.url, choice));
      },
      withState: (cb, state) => ({ ...cb, params: { ...cb.params, state } }),
      teardown: () => adapter.close(),
    };
  });
}

/** Re-sign (possibly altered) ID token claims the way a hostile or broken upstream would. */
async function forge(claims: JWTPayload, opKey: JWK, opts: { alg?: string; key?: Parameters<SignJWT['sign']>[0]; kid?: string } = {}): Promise<string> {
  const alg = opts.alg ?? 'RS256';
  const key = opts.key ?? (await importJWK(opKey, 'RS256'));
  return new SignJWT(claims).setProtectedHeader({ alg, kid: opts.kid ?? opKey.kid!, typ: 'JWT' }).sign(key);
}

function refused(result: unknown, code: string, detail?: RegExp): void {
  expect(result).toBeInstanceOf(BrokerError);
  const err = result as BrokerError;
  expect(`${err.code}: ${err.detail}`).toMatch(new RegExp(`^${code}: `));
  if (detail) expect(err.detail).toMatch(detail);
  // the refusal belongs to the right login, so the relying party is told
  expect(err.login?.uid).toBe('uid');
}

describe('rejections', () => {
  let adapter: OidcAdapter;
  beforeAll(async () => {
    adapter = await adapterFor('client_secret');
  });
  afterAll(async () => {
    await adapter.close();
  });

  test('the happy path through this adapter first, so each rejection below is the tampering and nothing else', async () => {
    op.tamper.idToken = (claims, key) => forge(claims, key);
    const result = await login(adapter, { acr: EIDAS.high });
    expect(result).toMatchObject({ identity: { subject: SUBJECT } });
  });

  test('wrong issuer in the ID token', async () => {
    op.tamper.idToken = (claims, key) => forge({ ...claims, iss: 'https://evil.example' }, key);
    refused(await login(adapter), 'invalid_response', /iss/);
  });

  test('bad signature: signed by another key under the OP key id', async () => {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
    op.tamper.idToken = (claims, key) => forge(claims, key, { key: privateKey });
    refused(await login(adapter), 'invalid_response', /signature/i);
  });

  test('HS256 signed with the OP public key as the secret (algorithm confusion)', async () => {
    op.tamper.idToken = async (claims, key) => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = key;
      const publicPem = (await import('node:crypto')).createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return forge(claims, key, { alg: 'HS256', key: new TextEncoder().encode(String(publicPem)) });
    };
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('alg none', async () => {
    op.tamper.idToken = (claims) => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    };
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('a token signed with a correct key but an algorithm other than the pinned one (ES256 instead of RS256)', async () => {
    const ecKey = op.jwks.keys.find((k) => k.kty === 'EC')!;
    const { privateKey } = await generateKeyPair('ES256');
    op.tamper.idToken = (claims, key) => forge(claims, key, { alg: 'ES256', key: privateKey, kid: ecKey.kid });
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('wrong audience', async () => {
    op.tamper.idToken = (claims, key) => forge({ ...claims, aud: 'another-client' }, key);
    refused(await login(adapter), 'invalid_response', /aud/);
  });

  test('nonce mismatch', async () => {
    op.tamper.idToken = (claims, key) => forge({ ...claims, nonce: 'not-the-nonce-we-sent' }, key);
    refused(await login(adapter), 'invalid_response', /nonce/);
  });

  test('expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    op.tamper.idToken = (claims, key) => forge({ ...claims, iat: now - 7200, exp: now - 3600 }, key);
    refused(await login(adapter), 'invalid_response', /exp|timestamp/);
  });

  test('userinfo sub different from the ID token sub', async () => {
    const viaUserinfo = await adapterFor('client_secret', { claims: { source: 'userinfo', personal_code: { claim: 'serial_number', pattern: 'PNO{country}-{code}' } } });
    try {
      await expect(login(viaUserinfo)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      op.tamper.userinfo = (claims) => ({ ...claims, sub: 'someone-else' });
      refused(await login(viaUserinfo), 'invalid_response', /sub/);
    } finally {
      await viaUserinfo.close();
    }
  });

  test('missing personal code', async () => {
    refused(await login(adapter, { user: 'nocode' }), 'invalid_response', /personal code claim serial_number is missing/);
  });

  test('invalid personal code (bad check digit and date)', async () => {
    refused(await login(adapter, { user: 'badcode' }), 'invalid_response', /invalid personal code/);
  });

  test('a personal code that does not match the configured pattern', async () => {
    const fixedLv = await adapterFor('client_secret', { claims: { personal_code: { claim: 'serial_number', pattern: 'PK:{code}', country: 'LV' } } });
    try {
      refused(await login(fixedLv), 'invalid_response', /does not match the pattern/);
    } finally {
      await fixedLv.close();
    }
  });

  test('level too low for what the service asked', async () => {
    refused(await login(adapter, { acr: EIDAS.substantial }, 'high'), 'loa_too_low', /substantial/);
    await expect(login(adapter, { acr: EIDAS.substantial }, 'substantial')).resolves.toMatchObject({ identity: { loa: 'substantial' } });
  });

  test('an acr the configuration does not map is refused', async () => {
    refused(await login(adapter, { acr: 'urn:test:unmapped' }), 'invalid_response', /not mapped/);
  });

  test('upstream error access_denied', async () => {
    refused(await login(adapter, { error: { error: 'access_denied', error_description: 'person is not eligible' } }), 'access_denied');
  });

  test('upstream server_error and a failing token endpoint are temporarily_unavailable', async () => {
    refused(await login(adapter, { error: { error: 'server_error' } }), 'temporarily_unavailable');
    op.tamper.tokenError = { status: 503, body: { error: 'temporarily_unavailable' } };
    refused(await login(adapter), 'temporarily_unavailable');
  });

  test('user cancel: error=user_cancel, or access_denied described as a cancel', async () => {
    refused(await login(adapter, { error: { error: 'user_cancel' } }), 'user_cancel');
    refused(await login(adapter, { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } }), 'user_cancel');
  });

  test('mix-up (RFC 9207): an authorization response without iss or from another issuer', async () => {
    for (const iss of [undefined, 'https://other-op.example']) {
      const store = new MemoryStore();
      const broker = new Broker({ states: new LoginStates(store, 300), audit: new MemoryAuditLog(), logger, adapters: new Map([[adapter.id, adapter]]), callbackUrl: () => CALLBACK });
      const { action } = await broker.begin({ uid: 'uid', clientId: 'svc', providerId: adapter.id, locale: 'en', correlationId: 'c' });
      const cb = toCallback(await op.login((action as { url: string }).url));
      if (iss) cb.params.iss = iss;
      else delete cb.params.iss;
      refused(await broker.complete(adapter.id, cb.params, 'GET').catch((e: unknown) => e), 'invalid_response', /iss/);
      await store.close();
    }
  });

  test('an unencrypted ID token is refused when encryption is required', async () => {
    const wantsJwe = await adapterFor('client_secret', { encryption: { id_token: true, alg: 'RSA-OAEP-256', key: keys.encryption } });
    try {
      refused(await login(wantsJwe), 'invalid_response', /not encrypted/);
    } finally {
      await wantsJwe.close();
    }
  });

  test('application logs carry no personal code, name or token', () => {
    const all = logger.lines.join('\n');
    expect(all).not.toMatch(/010180|Bērziņš|eyJ/);
  });
});

// The upstream OIDC adapter against a real node-oidc-provider (the test OP) over HTTPS with a dev CA,
// through the broker exactly as the gateway runs it. Hostile tokens are produced by the test OP itself
// (its token endpoint answer rewritten), so they travel the real protocol and TLS path.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SignJWT,
  importJWK,
  exportJWK,
  generateKeyPair,
  calculateJwkThumbprint,
  type JWK,
  type JWTPayload,
} from 'jose';
import { jest } from '@jest/globals';
import express from 'express';
import request from 'supertest';
import { adapterConformance, type AdapterHarness, type Callback } from '../../test/support/adapter-conformance.ts';
import { BrokerError } from '../../src/login/broker.ts';
import type { AdapterDeps } from '../../src/broker/adapter.ts';
import type { Loa } from '../../src/identity/loa.ts';
import { memoryLogger } from '../../src/logger.ts';
import { adapterDeps, brokerFor, TEST_BROWSER, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { setClock } from '../../test/support/clock.ts';
import { createOidcAdapter, oidcProviderSchema, type OidcAdapter, type OidcProviderInput } from './index.ts';
import { startTestOp, EIDAS, type LoginChoice, type TestOp } from './test-op/index.ts';
import { loginAtTestOp } from './test-logins.ts';
import {
  makeGatewayKeyFiles,
  providerEntry,
  testOpClient,
  type ClientVariant,
  type GatewayKeyFiles,
} from './test-op/fixtures.ts';

const CALLBACK = 'https://gateway.test/providers/test-eid/callback';
const SUBJECT = 'PNOLV-010180-15097';
const VARIANTS: ClientVariant[] = ['client_secret', 'private_key_jwt', 'encrypted', 'tls_client_auth'];

let dir: string;
let keys: GatewayKeyFiles;
let op: TestOp;
const logger = memoryLogger();
/** the test OP's client for the `encrypted` entry, without userinfo encryption */
const SIGNED_USERINFO = 'gw-encrypted-signed-userinfo';

const deps = (): AdapterDeps => adapterDeps(join(dir, 'keys'), { logger });
const brokerOf = (adapter: OidcAdapter) => brokerFor(adapter, { callbackUrl: CALLBACK, logger });

async function adapterFor(variant: ClientVariant, override: Partial<OidcProviderInput> = {}): Promise<OidcAdapter> {
  const config = oidcProviderSchema.parse({ ...providerEntry(op, variant, keys), ...override });
  return createOidcAdapter(config, deps());
}

function toCallback(url: URL): Callback {
  return { method: 'GET', params: Object.fromEntries(url.searchParams) };
}

/** One login through the broker; resolves to the identity or the BrokerError. */
async function login(adapter: OidcAdapter, choice: LoginChoice = {}, acr?: Loa) {
  return (await loginAtTestOp(op, adapter, { callbackUrl: CALLBACK, logger, choice, ...(acr ? { acr } : {}) })).result;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-oidc-test-'));
  keys = await makeGatewayKeyFiles(dir);
  // the OP needs the gateway's public keys, the gateway needs the OP's address: keys first, then the OP
  // and an upstream that signs its userinfo for the `encrypted` entry but does not encrypt it
  const {
    userinfo_encrypted_response_alg: _alg,
    userinfo_encrypted_response_enc: _enc,
    ...signedOnly
  } = testOpClient('encrypted', CALLBACK, keys);
  op = await startTestOp({
    clients: [...VARIANTS.map((v) => testOpClient(v, CALLBACK, keys)), { ...signedOnly, client_id: SIGNED_USERINFO }],
  });
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
      expect(identity).toMatchObject({
        subject: SUBJECT,
        givenName: 'Jānis',
        familyName: 'Bērziņš',
        country: 'LV',
        loa: 'high',
        amr: ['smart_card'],
        idp: 'test-eid',
      });
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
        const choice: LoginChoice =
          outcome === 'cancel'
            ? { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } }
            : { acr: EIDAS.high };
        return toCallback(await op.login(action.url, choice));
      },
      withState: (cb, state) => ({ ...cb, params: { ...cb.params, state } }),
      teardown: () => adapter.close(),
    };
  });
}

/** Re-sign (possibly altered) ID token claims the way a hostile or broken upstream would. */
async function forge(
  claims: JWTPayload,
  opKey: JWK,
  opts: { alg?: string; key?: Parameters<SignJWT['sign']>[0]; kid?: string } = {},
): Promise<string> {
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
      const publicPem = (await import('node:crypto'))
        .createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' });
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
    const viaUserinfo = await adapterFor('client_secret', {
      claims: { source: 'userinfo', personal_code: { claim: 'serial_number', pattern: 'PNO{country}-{code}' } },
    });
    try {
      await expect(login(viaUserinfo)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      op.tamper.userinfo = (claims) => ({ ...claims, sub: 'someone-else' });
      refused(await login(viaUserinfo), 'invalid_response', /sub/);
    } finally {
      await viaUserinfo.close();
    }
  });

  test('missing personal code', async () => {
    refused(
      await login(adapter, { user: 'nocode' }),
      'invalid_response',
      /personal code claim serial_number is missing/,
    );
  });

  test('invalid personal code (bad check digit and date)', async () => {
    refused(await login(adapter, { user: 'badcode' }), 'invalid_response', /invalid personal code/);
  });

  test('a personal code that does not match the configured pattern', async () => {
    const fixedLv = await adapterFor('client_secret', {
      claims: { personal_code: { claim: 'serial_number', pattern: 'PK:{code}', country: 'LV' } },
    });
    try {
      refused(await login(fixedLv), 'invalid_response', /does not match the pattern/);
    } finally {
      await fixedLv.close();
    }
  });

  test('level too low for what the service asked', async () => {
    refused(await login(adapter, { acr: EIDAS.substantial }, 'high'), 'loa_too_low', /substantial/);
    await expect(login(adapter, { acr: EIDAS.substantial }, 'substantial')).resolves.toMatchObject({
      identity: { loa: 'substantial' },
    });
  });

  test('an acr the configuration does not map is refused', async () => {
    refused(await login(adapter, { acr: 'urn:test:unmapped' }), 'invalid_response', /not mapped/);
  });

  test('upstream error access_denied', async () => {
    refused(
      await login(adapter, { error: { error: 'access_denied', error_description: 'person is not eligible' } }),
      'access_denied',
    );
  });

  test('upstream server_error and a failing token endpoint are temporarily_unavailable', async () => {
    refused(await login(adapter, { error: { error: 'server_error' } }), 'temporarily_unavailable');
    op.tamper.tokenError = { status: 503, body: { error: 'temporarily_unavailable' } };
    refused(await login(adapter), 'temporarily_unavailable');
  });

  test('user cancel: error=user_cancel, or access_denied described as a cancel', async () => {
    refused(await login(adapter, { error: { error: 'user_cancel' } }), 'user_cancel');
    refused(
      await login(adapter, { error: { error: 'access_denied', error_description: 'End-User aborted interaction' } }),
      'user_cancel',
    );
  });

  test('mix-up (RFC 9207): an authorization response without iss or from another issuer', async () => {
    for (const iss of [undefined, 'https://other-op.example']) {
      const { store, broker } = brokerOf(adapter);
      const { action } = await broker.begin({
        browser: TEST_BROWSER,
        uid: 'uid',
        clientId: 'svc',
        providerId: adapter.id,
        locale: 'en',
        correlationId: 'c',
      });
      const cb = toCallback(await op.login((action as { url: string }).url));
      if (iss) cb.params.iss = iss;
      else delete cb.params.iss;
      refused(
        await broker.complete(adapter.id, cb.params, 'GET', TEST_BROWSER).catch((e: unknown) => e),
        'invalid_response',
        /iss/,
      );
      await store.close();
    }
  });

  test('an unencrypted ID token is refused when encryption is required', async () => {
    const wantsJwe = await adapterFor('client_secret', {
      encryption: { id_token: true, alg: 'RSA-OAEP-256', key: keys.encryption },
    });
    try {
      refused(await login(wantsJwe), 'invalid_response', /not encrypted/);
    } finally {
      await wantsJwe.close();
    }
  });

  test('a signed but unencrypted userinfo is refused when encryption is required', async () => {
    const wantsJwe = await adapterFor('encrypted', { client_id: SIGNED_USERINFO });
    try {
      refused(await login(wantsJwe, { acr: EIDAS.high }), 'invalid_response', /userinfo was not encrypted/);
    } finally {
      await wantsJwe.close();
    }
  });

  test('application logs carry no personal code, name or token', () => {
    const all = logger.lines.join('\n');
    expect(all).not.toMatch(/010180|Bērziņš|eyJ/);
  });
});

describe('JWKS rotation (openid-client: refetch on an unknown kid, at most once a minute)', () => {
  test('a token under a new key is refused while the JWKS cache is fresh, and accepted once a refetch is allowed', async () => {
    const adapter = await adapterFor('client_secret');
    try {
      await expect(login(adapter)).resolves.toMatchObject({ identity: { subject: SUBJECT } }); // caches the JWKS
      const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
      const rotated = await exportJWK(privateKey);
      rotated.kid = await calculateJwkThumbprint(rotated);
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rotatedPublic } = rotated;
      op.tamper.jwks = () => ({ keys: [...op.jwks.keys, rotatedPublic] });
      op.tamper.idToken = (claims) => forge(claims, rotated, { key: privateKey, kid: rotated.kid });
      // unknown kid, cache younger than a minute: no refetch storm, the answer is refused
      refused(await login(adapter), 'invalid_response', /key/);
      // a minute later (only the clock moves; sockets and timers stay real) the unknown kid triggers one refetch
      setClock(Date.now() + 61_000);
      try {
        await expect(login(adapter)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      } finally {
        jest.useRealTimers();
      }
    } finally {
      delete op.tamper.jwks;
      await adapter.close();
    }
  });
});

describe('configuration and startup', () => {
  const valid = () => providerEntry(op, 'client_secret', keys);
  const problems = (input: unknown) => {
    const r = oidcProviderSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('a valid entry parses with defaults', () => {
    expect(problems(valid())).toEqual([]);
    const config = oidcProviderSchema.parse(valid());
    expect(config).toMatchObject({
      require_iss: true,
      request_object: false,
      par: false,
      clock_tolerance: 30,
      claims: { source: 'id_token' },
    });
  });

  test.each(['HS256', 'none', 'RS1'])('upstream signing algorithm %s is refused', (alg) => {
    expect(problems({ ...valid(), id_token_signed_response_alg: alg })).toEqual([
      expect.stringMatching(/^id_token_signed_response_alg:/),
    ]);
  });

  test('claim mapping is validated', () => {
    const pc = (personal_code: unknown) => problems({ ...valid(), claims: { personal_code } });
    expect(pc({ claim: 'serial_number' })).toEqual([expect.stringMatching(/country/)]);
    expect(pc({ claim: 'serial_number', pattern: 'PNO{country}' })).toEqual([
      expect.stringMatching(/\{code\} exactly once/),
    ]);
    expect(pc({ claim: 'serial_number', pattern: 'PNO{country}-{code}', country: 'LV' })).toEqual([
      expect.stringMatching(/either/),
    ]);
    expect(pc({ claim: 'serial_number', pattern: 'PK:{code}' })).toEqual([expect.stringMatching(/fixed country/)]);
    expect(pc({ claim: 'serial_number', pattern: '{cc}-{code}', country: 'LV' })).toEqual([
      expect.stringMatching(/placeholders/),
    ]);
    expect(pc({ claim: 'personal_code', country: 'FI' })).toHaveLength(1);
    expect(pc({ claim: 'personal_code', country: 'EE' })).toEqual([]);
  });

  test('assurance, scope, client authentication and encryption are validated', () => {
    expect(problems({ ...valid(), assurance: { acr: {} } })).toEqual([expect.stringMatching(/at least one/)]);
    expect(problems({ ...valid(), loa: 'substantial' })).toEqual([expect.stringMatching(/above the provider's level/)]);
    expect(problems({ ...valid(), assurance: { acr: { x: 'very-high' } } })).toHaveLength(1);
    expect(problems({ ...valid(), scope: 'profile eid' })).toEqual([expect.stringMatching(/openid/)]);
    const { tls: _tls, ...withoutTls } = valid();
    expect(problems({ ...withoutTls, client_auth: { method: 'tls_client_auth' } })).toEqual([
      expect.stringMatching(/tls block/),
    ]);
    expect(problems({ ...valid(), client_auth: { method: 'client_secret_basic' } })).toHaveLength(1);
    expect(problems({ ...valid(), encryption: { userinfo: true } })).toEqual([
      expect.stringMatching(/userinfo_signed_response_alg/),
    ]);
    expect(problems({ ...valid(), encryption: { alg: 'RSA1_5' } })).toHaveLength(1);
    expect(problems({ ...valid(), signing: { key: join(dir, 'does-not-exist.pem') } })).toEqual([
      expect.stringMatching(/cannot read file/),
    ]);
    expect(problems({ ...valid(), unknown_field: 1 })).toHaveLength(1);
  });

  test('http:// upstreams are refused in production', async () => {
    const config = oidcProviderSchema.parse({ ...valid(), issuer: 'http://127.0.0.1:9', tls: undefined });
    await expect(createOidcAdapter(config, { ...deps(), production: true })).rejects.toThrow(
      `provider ${config.id}: issuer: must be https in production`,
    );
  });

  test('an unreachable upstream makes the login temporarily_unavailable (and is retried on the next login)', async () => {
    const config = oidcProviderSchema.parse({ ...valid(), issuer: 'https://127.0.0.1:9' });
    const adapter = await createOidcAdapter(config, deps());
    try {
      const { broker } = brokerOf(adapter);
      for (let i = 0; i < 2; i += 1) {
        await expect(
          broker.begin({
            browser: TEST_BROWSER,
            uid: 'u',
            clientId: 'svc',
            providerId: adapter.id,
            locale: 'en',
            correlationId: 'c',
          }),
        ).rejects.toMatchObject({ code: 'temporarily_unavailable' });
      }
    } finally {
      await adapter.close();
    }
  });

  test('a discovery document naming another issuer is refused', async () => {
    // same server, but the configured issuer differs from what the OP's discovery document says
    const config = oidcProviderSchema.parse({ ...valid(), issuer: `${op.issuer.replace('127.0.0.1', 'localhost')}` });
    const adapter = await createOidcAdapter(config, deps());
    try {
      await expect(
        adapter.start({
          browser: TEST_BROWSER_DIGEST,
          state: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA',
          callbackUrl: CALLBACK,
          locale: 'en',
          correlationId: 'c',
        }),
      ).rejects.toMatchObject({ code: 'temporarily_unavailable', detail: expect.stringMatching(/issuer/) });
    } finally {
      await adapter.close();
    }
  });

  test('static metadata instead of discovery', async () => {
    const adapter = await adapterFor('client_secret', {
      metadata: {
        authorization_endpoint: `${op.issuer}/auth`,
        token_endpoint: `${op.issuer}/token`,
        jwks_uri: `${op.issuer}/jwks`,
        userinfo_endpoint: `${op.issuer}/me`,
      },
    });
    try {
      await expect(login(adapter)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
    } finally {
      await adapter.close();
    }
  });

  test('the authorization request carries PKCE S256, state, nonce, locale and the acceptable acr values', async () => {
    const adapter = await adapterFor('client_secret');
    try {
      const started = await adapter.start({
        browser: TEST_BROWSER_DIGEST,
        state: 'BBBBBBBBBBBBBBBBBBBBBBBBBBB',
        callbackUrl: CALLBACK,
        acr: 'substantial',
        locale: 'lv',
        correlationId: 'c',
      });
      const url = new URL((started.action as { url: string }).url);
      expect(Object.fromEntries(url.searchParams)).toMatchObject({
        state: 'BBBBBBBBBBBBBBBBBBBBBBBBBBB',
        code_challenge_method: 'S256',
        response_type: 'code',
        ui_locales: 'lv',
        acr_values: `${EIDAS.high} ${EIDAS.substantial}`,
        redirect_uri: CALLBACK,
      });
      const conn = started.connData as { verifier: string; nonce: string };
      expect(url.searchParams.get('nonce')).toBe(conn.nonce);
      expect(url.searchParams.get('code_challenge')).not.toBe(conn.verifier);
      expect(url.href).not.toContain(conn.verifier);
    } finally {
      await adapter.close();
    }
  });

  test('generated keys: created once in the key directory, reused, and published at /providers/<id>/jwks.json', async () => {
    const keyDir = join(dir, 'generated');
    const entry = {
      ...providerEntry(op, 'encrypted', keys),
      signing: { alg: 'ES256' as const },
      encryption: { id_token: true, alg: 'RSA-OAEP-256' as const },
    };
    const first = await createOidcAdapter(oidcProviderSchema.parse(entry), { ...deps(), keyDir });
    const second = await createOidcAdapter(oidcProviderSchema.parse(entry), { ...deps(), keyDir });
    try {
      expect(second.publicJwks()).toEqual(first.publicJwks());
      const app = express();
      first.routes(app, '/providers/test-eid');
      const res = await request(app).get('/providers/test-eid/jwks.json').expect(200);
      const published = res.body.keys as JWK[];
      expect(published.map((k) => [k.kty, k.use, k.alg])).toEqual([
        ['EC', 'sig', 'ES256'],
        ['RSA', 'enc', 'RSA-OAEP-256'],
      ]);
      for (const k of published) expect(k).not.toHaveProperty('d');
    } finally {
      await first.close();
      await second.close();
    }
  });
});

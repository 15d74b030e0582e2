// The upstream OIDC provider entry: what its schema accepts and refuses, and how the adapter starts: https in
// production, unreachable or mismatched upstreams, static metadata, the authorization request it sends, and
// the keys it generates (./test-op-adapters.ts).
import { join } from 'node:path';
import type { JWK } from 'jose';
import express from 'express';
import request from 'supertest';
import { TEST_BROWSER, TEST_BROWSER_DIGEST } from '../../test/support/broker.ts';
import { createOidcAdapter, oidcProviderSchema } from './index.ts';
import { EIDAS } from './test-op/index.ts';
import { providerEntry } from './test-op/fixtures.ts';
import { useTestOp, upstream, deps, brokerOf, adapterFor, login, CALLBACK, SUBJECT } from './test-op-adapters.ts';

useTestOp();

describe('configuration and startup', () => {
  const valid = () => providerEntry(upstream.op, 'client_secret', upstream.keys);
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
    expect(problems({ ...valid(), signing: { key: join(upstream.dir, 'does-not-exist.pem') } })).toEqual([
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
    const config = oidcProviderSchema.parse({
      ...valid(),
      issuer: `${upstream.op.issuer.replace('127.0.0.1', 'localhost')}`,
    });
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
        authorization_endpoint: `${upstream.op.issuer}/auth`,
        token_endpoint: `${upstream.op.issuer}/token`,
        jwks_uri: `${upstream.op.issuer}/jwks`,
        userinfo_endpoint: `${upstream.op.issuer}/me`,
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
    const keyDir = join(upstream.dir, 'generated');
    const entry = {
      ...providerEntry(upstream.op, 'encrypted', upstream.keys),
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

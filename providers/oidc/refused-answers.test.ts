// Answers the upstream OIDC adapter refuses, each made by the test OP itself (tampered tokens and userinfo,
// wrong or missing claims, upstream errors, RFC 9207 mix-up, missing encryption; ./test-op-adapters.ts).
import { generateKeyPair } from 'jose';
import { TEST_BROWSER } from '../../test/support/broker.ts';
import type { OidcAdapter } from './index.ts';
import { EIDAS } from './test-op/index.ts';
import {
  useTestOp,
  upstream,
  logger,
  brokerOf,
  adapterFor,
  toCallback,
  login,
  forge,
  refused,
  SUBJECT,
  SIGNED_USERINFO,
} from './test-op-adapters.ts';

useTestOp();

describe('rejections', () => {
  let adapter: OidcAdapter;
  beforeAll(async () => {
    adapter = await adapterFor('client_secret');
  });
  afterAll(async () => {
    await adapter.close();
  });

  test('the happy path through this adapter first, so each rejection below is the tampering and nothing else', async () => {
    upstream.op.tamper.idToken = (claims, key) => forge(claims, key);
    const result = await login(adapter, { acr: EIDAS.high });
    expect(result).toMatchObject({ identity: { subject: SUBJECT } });
  });

  test('wrong issuer in the ID token', async () => {
    upstream.op.tamper.idToken = (claims, key) => forge({ ...claims, iss: 'https://evil.example' }, key);
    refused(await login(adapter), 'invalid_response', /iss/);
  });

  test('bad signature: signed by another key under the OP key id', async () => {
    const { privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
    upstream.op.tamper.idToken = (claims, key) => forge(claims, key, { key: privateKey });
    refused(await login(adapter), 'invalid_response', /signature/i);
  });

  test('HS256 signed with the OP public key as the secret (algorithm confusion)', async () => {
    upstream.op.tamper.idToken = async (claims, key) => {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = key;
      const publicPem = (await import('node:crypto'))
        .createPublicKey({ key: pub as import('node:crypto').JsonWebKey, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' });
      return forge(claims, key, { alg: 'HS256', key: new TextEncoder().encode(String(publicPem)) });
    };
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('alg none', async () => {
    upstream.op.tamper.idToken = (claims) => {
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    };
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('a token signed with a correct key but an algorithm other than the pinned one (ES256 instead of RS256)', async () => {
    const ecKey = upstream.op.jwks.keys.find((k) => k.kty === 'EC')!;
    const { privateKey } = await generateKeyPair('ES256');
    upstream.op.tamper.idToken = (claims, key) => forge(claims, key, { alg: 'ES256', key: privateKey, kid: ecKey.kid });
    refused(await login(adapter), 'invalid_response', /alg/);
  });

  test('wrong audience', async () => {
    upstream.op.tamper.idToken = (claims, key) => forge({ ...claims, aud: 'another-client' }, key);
    refused(await login(adapter), 'invalid_response', /aud/);
  });

  test('nonce mismatch', async () => {
    upstream.op.tamper.idToken = (claims, key) => forge({ ...claims, nonce: 'not-the-nonce-we-sent' }, key);
    refused(await login(adapter), 'invalid_response', /nonce/);
  });

  test('expired ID token', async () => {
    const now = Math.floor(Date.now() / 1000);
    upstream.op.tamper.idToken = (claims, key) => forge({ ...claims, iat: now - 7200, exp: now - 3600 }, key);
    refused(await login(adapter), 'invalid_response', /exp|timestamp/);
  });

  test('userinfo sub different from the ID token sub', async () => {
    const viaUserinfo = await adapterFor('client_secret', {
      claims: { source: 'userinfo', personal_code: { claim: 'serial_number', pattern: 'PNO{country}-{code}' } },
    });
    try {
      await expect(login(viaUserinfo)).resolves.toMatchObject({ identity: { subject: SUBJECT } });
      upstream.op.tamper.userinfo = (claims) => ({ ...claims, sub: 'someone-else' });
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
    upstream.op.tamper.tokenError = { status: 503, body: { error: 'temporarily_unavailable' } };
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
      const cb = toCallback(await upstream.op.login((action as { url: string }).url));
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
      encryption: { id_token: true, alg: 'RSA-OAEP-256', key: upstream.keys.encryption },
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

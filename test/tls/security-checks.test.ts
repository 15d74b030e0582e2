// Startup security levels for the providers' material: each refusal with its exact message and config path
// (./security-check-fixture.ts). The gateway's own keys and listener: ./security-checks-gateway.test.ts.
import { describe, test, expect } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { checkSecurity } from '../../src/tls/security-checks.ts';
import { z } from 'zod';
import {
  NOW,
  env,
  fixture,
  files,
  oidc,
  entries,
  create,
  check,
  useSecurityCheckFixture,
} from './security-check-fixture.ts';

useSecurityCheckFixture();

describe('a sound production configuration', () => {
  test('passes without errors or warnings', () => {
    expect(
      check({
        providers: [
          oidc(),
          {
            id: 'bank',
            type: 'banklink',
            version: '009',
            private_key: files['good-key'],
            bank_certificate: files.good,
          },
        ],
        server: { tls: { cert: files.good, key: files['good-key'], client_ca: files.ca }, mtls: { port: 8443 } },
      }),
    ).toEqual({ errors: [], warnings: [] });
  });
});

describe('refusals in production, with exact messages', () => {
  test('a back-channel provider without mutual TLS', () => {
    // saml has a back channel only when it fetches its IdP's metadata; otherwise everything travels through the browser
    const report = check({
      providers: [
        { id: 'mock', type: 'mock' },
        { id: 'bank', type: 'banklink' },
        oidc({ tls: undefined }),
        { id: 'eidas', type: 'saml', metadata_url: 'https://idp.example/md' },
        { id: 'saml2', type: 'saml', idp: { sso_url: 'https://x' } },
        { id: 'saml3', type: 'saml', idp_metadata: files.ca },
      ],
    });
    expect(report.errors).toEqual([
      'providers[2].tls: a provider with a back channel needs mutual TLS in production',
      'providers[3].tls: a provider with a back channel needs mutual TLS in production',
    ]);
  });

  test('a tls block with only ca (server-authenticated TLS) is not mutual TLS: refused in production with its path, fine in development', () => {
    const caOnly = { providers: [{ id: 'mock', type: 'mock' }, oidc({ tls: { ca: files.ca } })] };
    expect(check(caOnly).errors).toEqual([
      'providers[1].tls: a provider with a back channel needs mutual TLS in production: tls has only ca, give cert and key as well',
    ]);
    expect(check(caOnly, false)).toEqual({ errors: [], warnings: [] });
  });

  test('in development a missing back-channel mTLS passes and weak material only warns', () => {
    expect(check({ providers: [oidc({ tls: undefined })] }, false)).toEqual({ errors: [], warnings: [] });
    expect(check({ providers: [oidc({ tls: { ...fixture.good, key: files.rsa1024 } })] }, false)).toEqual({
      errors: [],
      warnings: ['providers[0].tls.key: RSA private key of 1024 bits; at least 2048 are required'],
    });
  });

  test('an RSA key below 2048 bits: private key file and certificate', () => {
    const report = check({
      providers: [
        oidc({ tls: { ...fixture.good, key: files.rsa1024 } }),
        { id: 'bank', type: 'banklink', bank_certificate: files['weak-rsa'] },
      ],
    });
    expect(report.errors).toEqual([
      'providers[0].tls.key: RSA private key of 1024 bits; at least 2048 are required',
      'providers[1].bank_certificate: RSA key of certificate CN=weak-rsa of 1024 bits; at least 2048 are required',
    ]);
  });

  test("an RSA JWK below 2048 bits in a client's jwks", () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(check({ clients: [{ client_id: 'svc', jwks: { keys: [jwk] } }] }).errors).toEqual([
      'clients[0].jwks.keys[0]: RSA JWK of 1024 bits; at least 2048 are required',
    ]);
  });

  test('SHA-1 without the legacy flag, and with it (warning)', () => {
    const report = check({
      providers: [
        { id: 'old', type: 'banklink', version: '008' },
        { id: 'old2', type: 'banklink', version: '009', hash: 'sha1' },
        { id: 'ok-legacy', type: 'banklink', version: '008', legacy: true },
        { id: 'saml', type: 'saml', signature_algorithm: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1' },
      ],
    });
    expect(report.errors).toEqual([
      'providers[0].version: SHA-1 is a weak algorithm; allowed only for a provider marked legacy: true',
      'providers[1].hash: SHA-1 is a weak algorithm; allowed only for a provider marked legacy: true',
      'providers[3].signature_algorithm: SHA-1 is a weak algorithm; allowed only for a provider marked legacy: true',
    ]);
    expect(report.warnings).toEqual([
      'providers[2].version: SHA-1 is a weak algorithm, accepted only because this provider is marked legacy: true',
    ]);
  });

  test('a certificate signed with SHA-1', () => {
    expect(check({ providers: [oidc({ tls: { ...fixture.good, cert: files['sha1-signed'] } })] }).errors).toEqual([
      'providers[0].tls.cert: certificate CN=sha1-signed is signed with ecdsa-with-SHA1, a weak algorithm',
    ]);
  });

  test('alg none and HS* for upstream tokens', () => {
    const report = check({
      providers: [
        oidc({ id_token_signed_response_alg: 'none' }),
        oidc({ userinfo_signed_response_alg: 'HS256' }),
        oidc({ encryption: { alg: 'RSA1_5' } }),
      ],
    });
    expect(report.errors).toEqual([
      'providers[0].id_token_signed_response_alg: alg none is never accepted',
      'providers[1].userinfo_signed_response_alg: HS256 (a shared-secret MAC) is not accepted for upstream tokens',
      'providers[2].encryption.alg: RSA1_5 (RSA PKCS#1 v1.5 key transport) is a weak algorithm',
    ]);
  });

  test('an expired certificate is an error; one expiring within the window a warning', () => {
    const report = check({
      providers: [
        oidc({ tls: { ...fixture.good, cert: files.expired } }),
        oidc({ tls: { ...fixture.good, cert: files.expiring } }),
      ],
    });
    expect(report.errors).toEqual([
      'providers[0].tls.cert: certificate CN=expired expired on 2026-05-01T00:00:00.000Z',
    ]);
    expect(report.warnings).toEqual([
      'providers[1].tls.cert: certificate CN=expiring expires on 2026-06-11T00:00:00.000Z, within 30 days',
    ]);
  });

  test('the warning window is configurable', () => {
    expect(
      check({
        providers: [oidc({ tls: { ...fixture.good, cert: files.expiring } })],
        security: { cert_expiry_warning_days: 5 },
      }).warnings,
    ).toEqual([]);
    expect(
      checkSecurity({ production: true, providers: entries([oidc()]) }, { env, now: NOW, warningDays: 400 }).warnings,
    ).toEqual(['providers[0].tls.cert: certificate CN=good expires on 2027-06-01T00:00:00.000Z, within 400 days']);
  });

  test('a not-yet-valid certificate', () => {
    expect(check({ server: { tls: { cert: files.future, key: files['future-key'] } } }).errors).toEqual([
      'server.tls.cert: certificate CN=future is not valid before 2026-07-01T00:00:00.000Z',
    ]);
  });

  test('NODE_TLS_REJECT_UNAUTHORIZED=0, in production and in development', () => {
    const message =
      'NODE_TLS_REJECT_UNAUTHORIZED: set to 0, which turns off certificate verification for the whole process; unset it';
    for (const production of [true, false]) {
      expect(
        checkSecurity({ production, providers: [] }, { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0' }, now: NOW }).errors,
      ).toEqual([message]);
    }
  });

  test('unreadable key material is an error anywhere', () => {
    expect(
      check({ providers: [oidc({ tls: { ...fixture.good, key: '/nonexistent/key.pem' } })] }, false).errors,
    ).toEqual(['providers[0].tls.key: cannot read file /nonexistent/key.pem: ENOENT']);
    expect(
      check({ providers: [oidc({ tls: { ...fixture.good, ca: `${files.ca}.missing` } })] }, false).errors,
    ).toHaveLength(1);
  });

  test('a kind that declares no back channels is taken to have one; one that declares some needs mutual TLS', () => {
    const kinds = [
      { id: 'silent', type: 'silent-kind' }, // registered without `backChannels`
      { id: 'declared', type: 'declared-kind' },
      { id: 'browser', type: 'browser-kind' },
    ];
    const declared = { kind: 'declared-kind', schema: z.never(), create, backChannels: () => [['token_url']] };
    const browser = { kind: 'browser-kind', schema: z.never(), create, backChannels: () => [] };
    const providers = entries(kinds).map((e, i) =>
      i === 1 ? { ...e, factory: declared } : i === 2 ? { ...e, factory: browser } : e,
    );
    expect(checkSecurity({ production: true, providers }, { env, now: NOW }).errors).toEqual([
      'providers[0].tls: a provider with a back channel needs mutual TLS in production',
      'providers[1].tls: a provider with a back channel needs mutual TLS in production',
    ]);
    expect(checkSecurity({ production: false, providers }, { env, now: NOW }).errors).toEqual([]);
  });
});

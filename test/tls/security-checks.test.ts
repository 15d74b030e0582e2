// Startup security levels: each refusal with its exact message and config path.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import {
  checkSecurity,
  assertSecure,
  SecurityCheckError,
  type SecurityCheckInput,
} from '../../src/tls/security-checks.ts';
import { createCa, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/tls/pki.ts';
import { TempDir, DAY } from './pki-fixture.ts';
import { z } from 'zod';
import type { ProviderEntry } from '../../src/config/load.ts';
import type { ProviderBaseConfig } from '../../src/config/provider-base.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';

const NOW = new Date('2026-06-01T00:00:00Z');
const env = {}; // never the real process environment
let dir: TempDir;
let ca: CertificateAuthority;
let good: { ca: string; cert: string; key: string };
const files: Record<string, string> = {};

async function leaf(
  name: string,
  opts: Partial<Parameters<typeof issueCertificate>[1]> = {},
): Promise<IssuedCertificate> {
  const c = await issueCertificate(ca, {
    commonName: name,
    usage: 'client',
    notBefore: new Date(NOW.getTime() - 10 * DAY),
    notAfter: new Date(NOW.getTime() + 365 * DAY),
    ...opts,
  });
  files[name] = dir.write(`${name}.pem`, c.cert);
  files[`${name}-key`] = dir.write(`${name}-key.pem`, c.key);
  return c;
}

function oidc(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'eid',
    type: 'oidc',
    issuer: 'https://eid.example',
    id_token_signed_response_alg: 'RS256',
    tls: good,
    ...extra,
  };
}

/** Raw provider entries (only the fields a check reads) with their registered kinds, as the loader pairs them. */
function entries(raw: readonly Record<string, unknown>[] = []): ProviderEntry[] {
  return raw.map((config) => ({
    factory: ADAPTER_FACTORIES.get(String(config.type)) ?? { kind: String(config.type), schema: z.never(), create },
    config: config as ProviderBaseConfig,
  }));
}
const create = (): never => {
  throw new Error('not opened by these checks');
};

function check(
  config: Partial<Omit<SecurityCheckInput, 'providers'>> & { providers?: Record<string, unknown>[] },
  production = true,
) {
  return checkSecurity({ production, ...config, providers: entries(config.providers) }, { env, now: NOW });
}

beforeAll(async () => {
  dir = new TempDir();
  ca = await createCa({
    commonName: 'Check CA',
    notBefore: new Date(NOW.getTime() - 100 * DAY),
    notAfter: new Date(NOW.getTime() + 3650 * DAY),
  });
  files.ca = dir.write('ca.pem', ca.cert);
  await leaf('good');
  good = { ca: files.ca!, cert: files.good!, key: files['good-key']! };
  await Promise.all([
    leaf('expired', { notBefore: new Date(NOW.getTime() - 400 * DAY), notAfter: new Date('2026-05-01T00:00:00Z') }),
    leaf('expiring', { notAfter: new Date('2026-06-11T00:00:00Z') }),
    leaf('future', { notBefore: new Date('2026-07-01T00:00:00Z'), notAfter: new Date('2027-07-01T00:00:00Z') }),
    leaf('weak-rsa', { key: { type: 'rsa', bits: 1024 } }),
    leaf('sha1-signed', { hash: 'SHA-1' }),
  ]);
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;
  files.rsa1024 = dir.write('rsa1024.pem', rsa1024);
});

afterAll(() => dir.remove());

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
    expect(check({ providers: [oidc({ tls: { ...good, key: files.rsa1024 } })] }, false)).toEqual({
      errors: [],
      warnings: ['providers[0].tls.key: RSA private key of 1024 bits; at least 2048 are required'],
    });
  });

  test('an RSA key below 2048 bits: private key file and certificate', () => {
    const report = check({
      providers: [
        oidc({ tls: { ...good, key: files.rsa1024 } }),
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
    expect(check({ providers: [oidc({ tls: { ...good, cert: files['sha1-signed'] } })] }).errors).toEqual([
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
      providers: [oidc({ tls: { ...good, cert: files.expired } }), oidc({ tls: { ...good, cert: files.expiring } })],
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
        providers: [oidc({ tls: { ...good, cert: files.expiring } })],
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
    expect(check({ providers: [oidc({ tls: { ...good, key: '/nonexistent/key.pem' } })] }, false).errors).toEqual([
      'providers[0].tls.key: cannot read file /nonexistent/key.pem: ENOENT',
    ]);
    expect(check({ providers: [oidc({ tls: { ...good, ca: `${files.ca}.missing` } })] }, false).errors).toHaveLength(1);
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

describe("the gateway's own keys and listener", () => {
  test('an RSA token signing key below 2048 bits in keys.dir; a missing keys.dir is generated, not an error', () => {
    const keyDir = `${dir.path}/keys`;
    const jwk = (bits: number) =>
      JSON.stringify(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'jwk' }));
    mkdirSync(keyDir, { recursive: true });
    dir.write('keys/signing-rsa.jwk.json', jwk(1024));
    dir.write('keys/signing-big.jwk.json', jwk(2048));
    dir.write('keys/notes.txt', 'not a key');
    expect(check({ keys: { dir: keyDir } }).errors).toEqual([
      'keys.dir: RSA JWK signing-rsa.jwk.json of 1024 bits; at least 2048 are required',
    ]);
    expect(check({ keys: { dir: `${dir.path}/not-yet` } })).toEqual({ errors: [], warnings: [] });
  });

  test('audit keys: an RSA auditor key below 2048 bits (PEM or JWK file); an absent checkpoint key is generated, not an error', () => {
    const pub = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const pem = dir.write('auditor.pem', pub.export({ type: 'spki', format: 'pem' }) as string);
    const jwkFile = dir.write('auditor.jwk.json', JSON.stringify(pub.export({ format: 'jwk' })));
    expect(
      check({ audit: { signing_key: `${dir.path}/absent/checkpoint.pem`, auditor_public_key: pem } }).errors,
    ).toEqual(['audit.auditor_public_key: RSA public key of 1024 bits; at least 2048 are required']);
    expect(check({ audit: { auditor_public_key: jwkFile } }).errors).toEqual([
      'audit.auditor_public_key: RSA JWK of 1024 bits; at least 2048 are required',
    ]);
    expect(check({ audit: { auditor_public_key: `${dir.path}/missing.pem` } }).errors).toEqual([
      `audit.auditor_public_key: cannot read file ${dir.path}/missing.pem: ENOENT`,
    ]);
  });

  test('client certificates requested on the login listener: a warning pointing at server.mtls', () => {
    const tls = { cert: files.good, key: files['good-key'], client_ca: files.ca };
    const warning =
      'server.tls: client certificates are requested on the listener that serves login pages, so browsers may show a certificate prompt; configure server.mtls (a separate mutual-TLS listener)';
    expect(check({ server: { tls } })).toEqual({ errors: [], warnings: [warning] });
    expect(
      check({ server: { tls: { ...tls, client_ca: undefined, request_client_certificate: true } } }).warnings,
    ).toEqual([warning]);
    expect(check({ server: { tls, mtls: { port: 8443 } } }).warnings).toEqual([]);
    expect(check({ server: { tls: { ...tls, request_client_certificate: false } } }).warnings).toEqual([]);
  });
});

describe('assertSecure', () => {
  test('throws with every error and passes warnings on', () => {
    const warnings: string[] = [];
    let thrown: unknown;
    try {
      assertSecure(
        {
          production: true,
          providers: entries([oidc({ tls: undefined }), oidc({ tls: { ...good, cert: files.expiring } })]),
        },
        (w) => warnings.push(w),
        { env, now: NOW },
      );
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SecurityCheckError);
    expect((thrown as SecurityCheckError).message).toBe(
      'refusing to start:\n  providers[0].tls: a provider with a back channel needs mutual TLS in production',
    );
    expect(warnings).toEqual([
      'providers[1].tls.cert: certificate CN=expiring expires on 2026-06-11T00:00:00.000Z, within 30 days',
    ]);
  });
});

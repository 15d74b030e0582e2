// The security refusals at startup, through the operator's commands: every one, with its exact message,
// from `vpm-gateway config check FILE` and `vpm-gateway start --config FILE`
// (src/cli/main.ts main()). Real configuration files, real certificates and keys on disk, real time
// (./production-config.ts, ./startup-material.ts). Some refusals come from the configuration schemas (an
// algorithm that no schema admits), the rest from src/tls/security-checks.ts; either way the command names
// the config path and exits 1.
import { describe, test, expect } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { runCli } from '../support/cli.ts';
import { bank, f, files, oidcProvider } from './production-config.ts';
import { configPath, date, expectRefusedBy, samlBase, useStartupMaterial } from './startup-material.ts';

useStartupMaterial();

describe('the baseline', () => {
  test('the sound production configuration passes config check', async () => {
    const file = configPath();
    expect(await runCli(['config', 'check', file])).toEqual({
      code: 0,
      stdout: `${file}: ok (1 clients, 1 providers)\n`,
      stderr: '',
    });
  });
});

describe('a provider with a back channel and no mutual TLS', () => {
  test('oidc without tls', async () => {
    await expectRefusedBy(configPath({ providers: [oidcProvider({ tls: undefined })] }), 'security', [
      'providers[0].tls: a provider with a back channel needs mutual TLS in production',
    ]);
  });

  test('saml fetching its IdP metadata from metadata_url without tls; without metadata_url it has no back channel', async () => {
    const fetching = {
      ...samlBase,
      metadata_url: 'https://idp.example.lv/metadata',
      metadata_signing_certificates: [f.good],
      idp: { entity_id: 'https://idp.example.lv/metadata' },
    };
    await expectRefusedBy(configPath({ providers: [fetching] }), 'security', [
      'providers[0].tls: a provider with a back channel needs mutual TLS in production',
    ]);
    const browserOnly = {
      ...samlBase,
      idp: {
        entity_id: 'https://idp.example.lv/metadata',
        sso_url: 'https://idp.example.lv/sso',
        certificates: [f.good],
      },
    };
    const file = configPath({ providers: [browserOnly] });
    expect(await runCli(['config', 'check', file])).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('RSA below 2048 bits', () => {
  test('a back-channel certificate and key', async () => {
    await expectRefusedBy(
      configPath({ providers: [oidcProvider({ tls: { ca: f.ca, cert: f['weak-rsa'], key: f.rsa1024 } })] }),
      'security',
      [
        'providers[0].tls.cert: RSA key of certificate CN=weak-rsa of 1024 bits; at least 2048 are required',
        'providers[0].tls.key: RSA private key of 1024 bits; at least 2048 are required',
      ],
    );
  });

  test('a bank key', async () => {
    await expectRefusedBy(configPath({ providers: [oidcProvider(), bank({ private_key: f.rsa1024 })] }), 'security', [
      'providers[1].private_key: RSA private key of 1024 bits; at least 2048 are required',
    ]);
  });

  test('a token signing key in keys.dir', async () => {
    const keys = `${files.dir.path}/weak-keys`;
    mkdirSync(keys, { recursive: true });
    files.dir.write(
      'weak-keys/signing-rsa.jwk.json',
      JSON.stringify(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' })),
    );
    await expectRefusedBy(configPath({ keys: { dir: keys } }), 'security', [
      'keys.dir: RSA JWK signing-rsa.jwk.json of 1024 bits; at least 2048 are required',
    ]);
  });

  test("the auditor's public key", async () => {
    const audit = {
      dir: `${files.dir.path}/audit-aud`,
      signing_key: `${files.dir.path}/audit-key-aud/checkpoint.pem`,
      auditor_public_key: f.auditor1024,
    };
    await expectRefusedBy(configPath({ audit }), 'security', [
      'audit.auditor_public_key: RSA public key of 1024 bits; at least 2048 are required',
    ]);
  });

  test("an agency service's JWK", async () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const clients = [
      {
        client_id: 'svc',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        redirect_uris: ['https://svc.example.lv/cb'],
      },
    ];
    await expectRefusedBy(configPath({ clients }), 'security', [
      'clients[0].jwks.keys[0]: RSA JWK of 1024 bits; at least 2048 are required',
    ]);
  });
});

describe('weak algorithms', () => {
  test('SHA-1 without legacy: true (banklink 008, hash sha1) is refused by the bank schema', async () => {
    await expectRefusedBy(configPath({ providers: [oidcProvider(), bank({ version: '008' })] }), 'schema', [
      'providers[1].legacy: SHA-1 (VK_VERSION 008 or hash sha1) is only accepted for a bank marked legacy: true',
    ]);
    await expectRefusedBy(configPath({ providers: [oidcProvider(), bank({ hash: 'sha1' })] }), 'schema', [
      'providers[1].legacy: SHA-1 (VK_VERSION 008 or hash sha1) is only accepted for a bank marked legacy: true',
    ]);
  });

  test('SHA-1 with legacy: true is only a warning', async () => {
    const file = configPath({ providers: [oidcProvider(), bank({ version: '008', legacy: true })] });
    expect(await runCli(['config', 'check', file])).toEqual({
      code: 0,
      stdout: `warning: providers[1].version: SHA-1 is a weak algorithm, accepted only because this provider is marked legacy: true\n${file}: ok (1 clients, 2 providers)\n`,
      stderr: '',
    });
  });

  test('a certificate signed with SHA-1', async () => {
    await expectRefusedBy(
      configPath({
        providers: [oidcProvider({ tls: { ca: f.ca, cert: f['sha1-signed'], key: f['sha1-signed-key'] } })],
      }),
      'security',
      ['providers[0].tls.cert: certificate CN=sha1-signed is signed with ecdsa-with-SHA1, a weak algorithm'],
    );
  });

  test('alg none and HS256 for upstream tokens, RSA1_5 for upstream encryption: no schema admits them', async () => {
    const upstreamAlgs =
      'expected one of "PS256"|"PS384"|"PS512"|"RS256"|"RS384"|"RS512"|"ES256"|"ES384"|"ES512"|"Ed25519"|"EdDSA"';
    await expectRefusedBy(
      configPath({ providers: [oidcProvider({ id_token_signed_response_alg: 'none' })] }),
      'schema',
      [`providers[0].id_token_signed_response_alg: Invalid option: ${upstreamAlgs}`],
    );
    await expectRefusedBy(
      configPath({ providers: [oidcProvider({ userinfo_signed_response_alg: 'HS256' })] }),
      'schema',
      [`providers[0].userinfo_signed_response_alg: Invalid option: ${upstreamAlgs}`],
    );
    await expectRefusedBy(configPath({ providers: [oidcProvider({ encryption: { alg: 'RSA1_5' } })] }), 'schema', [
      'providers[0].encryption.alg: Invalid option: expected one of "RSA-OAEP-256"|"RSA-OAEP-384"|"RSA-OAEP-512"|"RSA-OAEP"|"ECDH-ES"|"ECDH-ES+A128KW"|"ECDH-ES+A256KW"',
    ]);
  });

  test('alg none and HS256 for the ID tokens the gateway signs for a service', async () => {
    const client = (alg: string) => [
      {
        client_id: 'svc',
        client_secret: 'service-secret-0123456789-0123456789',
        redirect_uris: ['https://svc.example.lv/cb'],
        id_token_signed_response_alg: alg,
      },
    ];
    for (const alg of ['none', 'HS256']) {
      await expectRefusedBy(configPath({ clients: client(alg) }), 'schema', [
        'clients[0].id_token_signed_response_alg: Invalid option: expected one of "PS256"|"ES256"|"RS256"',
      ]);
    }
  });
});

describe('certificate validity', () => {
  test('an expired certificate', async () => {
    await expectRefusedBy(
      configPath({ providers: [oidcProvider({ tls: { ca: f.ca, cert: f.expired, key: f['expired-key'] } })] }),
      'security',
      [`providers[0].tls.cert: certificate CN=expired expired on ${date('expired', 'validTo')}`],
    );
  });

  test('a certificate not yet valid', async () => {
    await expectRefusedBy(
      configPath({ providers: [oidcProvider({ tls: { ca: f.ca, cert: f.future, key: f['future-key'] } })] }),
      'security',
      [`providers[0].tls.cert: certificate CN=future is not valid before ${date('future', 'validFrom')}`],
    );
  });

  test('a certificate expiring within the window is a warning; the window is configurable', async () => {
    const providers = [oidcProvider({ tls: { ca: f.ca, cert: f.expiring, key: f['expiring-key'] } })];
    const file = configPath({ providers });
    expect(await runCli(['config', 'check', file])).toEqual({
      code: 0,
      stdout: `warning: providers[0].tls.cert: certificate CN=expiring expires on ${date('expiring', 'validTo')}, within 30 days\n${file}: ok (1 clients, 1 providers)\n`,
      stderr: '',
    });
    const narrow = configPath({ providers, security: { cert_expiry_warning_days: 5 } });
    expect(await runCli(['config', 'check', narrow])).toEqual({
      code: 0,
      stdout: `${narrow}: ok (1 clients, 1 providers)\n`,
      stderr: '',
    });
  });
});

describe('NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
  test('refused in production and in development', async () => {
    const message =
      'NODE_TLS_REJECT_UNAUTHORIZED: set to 0, which turns off certificate verification for the whole process; unset it';
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    // no TLS connection is made while it is set; restored at once
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      await expectRefusedBy(configPath(), 'security', [message]);
      await expectRefusedBy(configPath({ production: false, cookie_keys: undefined }), 'security', [message]);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
  });
});

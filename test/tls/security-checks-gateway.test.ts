// Startup security levels for the gateway's own keys and listener (token signing keys, audit keys, client
// certificates on the login listener), and assertSecure refusing with every error while passing warnings on
// (./security-check-fixture.ts).
import { describe, test, expect } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { assertSecure, SecurityCheckError } from '../../src/tls/security-checks.ts';
import { NOW, env, fixture, files, oidc, entries, check, useSecurityCheckFixture } from './security-check-fixture.ts';

useSecurityCheckFixture();

describe("the gateway's own keys and listener", () => {
  test('an RSA token signing key below 2048 bits in keys.dir; a missing keys.dir is generated, not an error', () => {
    const keyDir = `${fixture.dir.path}/keys`;
    const jwk = (bits: number) =>
      JSON.stringify(generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ format: 'jwk' }));
    mkdirSync(keyDir, { recursive: true });
    fixture.dir.write('keys/signing-rsa.jwk.json', jwk(1024));
    fixture.dir.write('keys/signing-big.jwk.json', jwk(2048));
    fixture.dir.write('keys/notes.txt', 'not a key');
    expect(check({ keys: { dir: keyDir } }).errors).toEqual([
      'keys.dir: RSA JWK signing-rsa.jwk.json of 1024 bits; at least 2048 are required',
    ]);
    expect(check({ keys: { dir: `${fixture.dir.path}/not-yet` } })).toEqual({ errors: [], warnings: [] });
  });

  test('audit keys: an RSA auditor key below 2048 bits (PEM or JWK file); an absent checkpoint key is generated, not an error', () => {
    const pub = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const pem = fixture.dir.write('auditor.pem', pub.export({ type: 'spki', format: 'pem' }) as string);
    const jwkFile = fixture.dir.write('auditor.jwk.json', JSON.stringify(pub.export({ format: 'jwk' })));
    expect(
      check({ audit: { signing_key: `${fixture.dir.path}/absent/checkpoint.pem`, auditor_public_key: pem } }).errors,
    ).toEqual(['audit.auditor_public_key: RSA public key of 1024 bits; at least 2048 are required']);
    expect(check({ audit: { auditor_public_key: jwkFile } }).errors).toEqual([
      'audit.auditor_public_key: RSA JWK of 1024 bits; at least 2048 are required',
    ]);
    expect(check({ audit: { auditor_public_key: `${fixture.dir.path}/missing.pem` } }).errors).toEqual([
      `audit.auditor_public_key: cannot read file ${fixture.dir.path}/missing.pem: ENOENT`,
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
          providers: entries([oidc({ tls: undefined }), oidc({ tls: { ...fixture.good, cert: files.expiring } })]),
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

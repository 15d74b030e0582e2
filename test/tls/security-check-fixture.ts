// What the startup security check tests share: a CA and certificates on disk (sound, expired, expiring,
// not yet valid, weak RSA, SHA-1 signed) around a fixed NOW, an RSA-1024 key file, an upstream OIDC
// entry over mutual TLS, and the check run on raw entries paired with their registered kinds.
import { beforeAll, afterAll } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { z } from 'zod';
import { checkSecurity, type SecurityCheckInput } from '../../src/tls/security-checks.ts';
import { createCa, issueCertificate, type CertificateAuthority, type IssuedCertificate } from '../../src/tls/pki.ts';
import type { ProviderEntry } from '../../src/config/load.ts';
import type { ProviderBaseConfig } from '../../src/config/provider-base.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { TempDir, DAY } from './pki-fixture.ts';

export const NOW = new Date('2026-06-01T00:00:00Z');
export const env = {}; // never the real process environment
/** the directory, and the sound mutual-TLS files of `oidc()`: set by useSecurityCheckFixture()'s beforeAll */
export const fixture = {} as { dir: TempDir; good: { ca: string; cert: string; key: string } };
/** the files written: ca, good, expired, expiring, future, weak-rsa, sha1-signed (each with -key), rsa1024 */
export const files: Record<string, string> = {};
let ca: CertificateAuthority;

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
  files[name] = fixture.dir.write(`${name}.pem`, c.cert);
  files[`${name}-key`] = fixture.dir.write(`${name}-key.pem`, c.key);
  return c;
}

/** Registers the certificates' beforeAll and the directory's removal in the current file. */
export function useSecurityCheckFixture(): void {
  beforeAll(async () => {
    const dir = new TempDir();
    fixture.dir = dir;
    ca = await createCa({
      commonName: 'Check CA',
      notBefore: new Date(NOW.getTime() - 100 * DAY),
      notAfter: new Date(NOW.getTime() + 3650 * DAY),
    });
    files.ca = dir.write('ca.pem', ca.cert);
    await leaf('good');
    fixture.good = { ca: files.ca!, cert: files.good!, key: files['good-key']! };
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
  afterAll(() => fixture.dir.remove());
}

export function oidc(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'eid',
    type: 'oidc',
    issuer: 'https://eid.example',
    id_token_signed_response_alg: 'RS256',
    tls: fixture.good,
    ...extra,
  };
}

/** Raw provider entries (only the fields a check reads) with their registered kinds, as the loader pairs them. */
export function entries(raw: readonly Record<string, unknown>[] = []): ProviderEntry[] {
  return raw.map((config) => ({
    factory: ADAPTER_FACTORIES.get(String(config.type)) ?? { kind: String(config.type), schema: z.never(), create },
    config: config as ProviderBaseConfig,
  }));
}
export const create = (): never => {
  throw new Error('not opened by these checks');
};

export function check(
  config: Partial<Omit<SecurityCheckInput, 'providers'>> & { providers?: Record<string, unknown>[] },
  production = true,
) {
  return checkSecurity({ production, ...config, providers: entries(config.providers) }, { env, now: NOW });
}

// The startup refusal tests' material beyond the sound production configuration (./production-config.ts):
// certificates of its CA that are sound (for SAML), expired, expiring, not yet valid, weakly keyed or SHA-1
// signed, RSA-1024 keys; and the check that both commands refuse a file, for a refusal by the security
// checks or by the configuration schemas alike.
import { beforeAll, expect } from '@jest/globals';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { runCli } from '../support/cli.ts';
import { issueCertificate } from '../../src/tls/pki.ts';
import { SAML_TEST_ENTRY, inProduction } from '../support/provider-entries.ts';
import { DAY } from './pki-fixture.ts';
import { configFile, f, files, useProductionConfig } from './production-config.ts';

async function leaf(name: string, opts: Partial<Parameters<typeof issueCertificate>[1]> = {}) {
  const c = await issueCertificate(files.ca, { commonName: name, usage: 'client', ...opts });
  f[name] = files.dir.write(`${name}.pem`, c.cert);
  f[`${name}-key`] = files.dir.write(`${name}-key.pem`, c.key);
}

const rsaPem = (bits: number, which: 'private' | 'public' = 'private') => {
  const pair = generateKeyPairSync('rsa', { modulusLength: bits });
  return which === 'private'
    ? (pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
    : (pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
};

/**
 * Registers in the current file the production configuration's set-up, then the certificates named by
 * their flaw in `f` (good, expired, expiring, future, weak-rsa, sha1-signed, each with -key), an RSA-1024
 * private key (rsa1024) and public key (auditor1024).
 */
export function useStartupMaterial(): void {
  useProductionConfig();
  beforeAll(async () => {
    await Promise.all([
      leaf('good'),
      leaf('expired', { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - 2 * DAY) }),
      leaf('expiring', { notAfter: new Date(Date.now() + 10 * DAY) }),
      leaf('future', { notBefore: new Date(Date.now() + 30 * DAY), notAfter: new Date(Date.now() + 400 * DAY) }),
      leaf('weak-rsa', { key: { type: 'rsa', bits: 1024 } }),
      leaf('sha1-signed', { hash: 'SHA-1' }),
    ]);
    f.rsa1024 = files.dir.write('rsa1024.pem', rsaPem(1024));
    f.auditor1024 = files.dir.write('auditor1024.pem', rsaPem(1024, 'public'));
  });
}

/** A SAML entry in production with the sound certificate as its own keys (the IdP is the test's). */
export const samlBase = {
  ...inProduction(SAML_TEST_ENTRY),
  get sp() {
    return { signing: { cert: f.good, key: f['good-key'] }, encryption: { cert: f.good, key: f['good-key'] } };
  },
};

/** The sound production configuration with `change` applied, written to its own file: its path. */
export const configPath = (change: Record<string, unknown> = {}): string => configFile(change).file;

/** Both commands refuse the file, each with its own heading and exactly these lines. */
export async function expectRefusedBy(file: string, kind: 'security' | 'schema', lines: string[]) {
  const check = await runCli(['config', 'check', file]);
  const start = await runCli(['start', '--config', file]);
  const body = lines.map((l) => `  ${l}`).join('\n');
  if (kind === 'security') {
    expect(check).toMatchObject({ code: 1, stderr: `${file}: refused by the security checks\n${body}\n` });
    expect(start).toMatchObject({ code: 1, stderr: `${file}: refusing to start:\n${body}\n` });
  } else {
    expect(check).toMatchObject({ code: 1, stderr: `${file}: configuration is invalid\n${body}\n` });
    expect(start).toMatchObject({ code: 1, stderr: `${file}: configuration is invalid\n${body}\n` });
  }
}

/** A certificate's validTo or validFrom as the refusals print it. */
export const date = (name: string, which: 'validTo' | 'validFrom') =>
  new X509Certificate(readFileSync(f[name]!))[`${which}Date`].toISOString();

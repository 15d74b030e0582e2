// What the production refusal tests share: a sound production configuration behind a TLS terminator,
// with real certificates and keys on disk, written with one change per test to its own file; and the
// check that the operator's real commands (`vpm-gateway config check FILE`, `vpm-gateway start --config
// FILE`) refuse it with the same lines while `start` leaves nothing behind.
import { beforeAll, afterAll, expect } from '@jest/globals';
import { existsSync } from 'node:fs';
import { stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { issueCertificate, type CertificateAuthority } from '../../src/tls/pki.ts';
import { productionBankEntry, productionOidcEntry } from '../support/provider-entries.ts';
import { TempDir, createCa, serverCert } from './pki-fixture.ts';

/** the temporary directory and the CA of the certificates (set by useProductionConfig()'s beforeAll) */
export const files = {} as { dir: TempDir; ca: CertificateAuthority };
/** the PEM files written there: ca, client, clientKey, server, serverKey, bankCert, bankKey */
export const f: Record<string, string> = {};
let n = 0;
/** the number of the last configuration written (its outputs are keys-N, audit-N, audit-key-N) */
export const configCount = () => n;

export const oidcProvider = (extra: Record<string, unknown> = {}) =>
  productionOidcEntry({ ca: f.ca!, cert: f.client!, key: f.clientKey! }, extra);

export const bank = (extra: Record<string, unknown> = {}) =>
  productionBankEntry({ private_key: f.bankKey!, bank_certificate: f.bankCert! }, extra);

export const CLIENT = {
  client_id: 'svc',
  client_secret: 'service-secret-0123456789-0123456789',
  redirect_uris: ['https://svc.example.lv/cb'],
};

/** Registers the certificates' beforeAll and the directory's removal in the current file. */
export function useProductionConfig(): void {
  beforeAll(async () => {
    const dir = new TempDir();
    files.dir = dir;
    const ca = await createCa({ commonName: 'Production refusals CA', pathLength: 0 });
    files.ca = ca;
    f.ca = dir.write('ca.pem', ca.cert);
    const [client, server, bankRsa] = await Promise.all([
      issueCertificate(ca, { commonName: 'gateway', usage: 'client' }),
      serverCert(ca, { dns: ['gw.example.lv'] }),
      issueCertificate(ca, { commonName: 'bank', usage: 'client', key: { type: 'rsa', bits: 2048 } }),
    ]);
    f.client = dir.write('client.pem', client.cert);
    f.clientKey = dir.write('client-key.pem', client.key);
    f.server = dir.write('server.pem', server.cert);
    f.serverKey = dir.write('server-key.pem', server.key);
    f.bankCert = dir.write('bank.pem', bankRsa.cert);
    f.bankKey = dir.write('bank-key.pem', bankRsa.key);
  });
  afterAll(() => files.dir.remove());
}

/** Where `start` would write: checked to be absent after every refusal. */
function outputs(k: number) {
  const dir = files.dir;
  return { keys: `${dir.path}/keys-${k}`, audit: `${dir.path}/audit-${k}`, auditKey: `${dir.path}/audit-key-${k}` };
}

/** A sound production configuration behind a TLS terminator, with `change` applied; written to its own file. */
export function configFile(change: Record<string, unknown> = {}): { file: string; written: string[] } {
  n += 1;
  const out = outputs(n);
  const config = {
    issuer: 'https://gw.example.lv',
    production: true,
    port: 0,
    proxy: ['10.0.0.0/8'],
    log_level: 'error',
    cookie_keys: ['cookie-key-0123456789-0123456789-0123456789'],
    keys: { dir: out.keys },
    audit: { dir: out.audit, signing_key: `${out.auditKey}/checkpoint.pem` },
    clients: [CLIENT],
    providers: [oidcProvider()],
    ...change,
  };
  return { file: files.dir.write(`config-${n}.yaml`, stringify(config)), written: Object.values(out) };
}

/** Both commands refuse the file with exactly these lines, and `start` leaves nothing behind. */
export async function expectRefused({ file, written }: { file: string; written: string[] }, lines: string[]) {
  const body = lines.map((l) => `  ${l}`).join('\n');
  expect(await runCli(['config', 'check', file])).toMatchObject({
    code: 1,
    stderr: `${file}: refused by the security checks\n${body}\n`,
  });
  expect(await runCli(['start', '--config', file])).toMatchObject({
    code: 1,
    stderr: `${file}: refusing to start:\n${body}\n`,
  });
  for (const path of written) expect([path, existsSync(path)]).toEqual([path, false]);
}

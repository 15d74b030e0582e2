// `vpm-gateway certs dev`: a usable, idempotent development PKI.
import { describe, test, expect, afterAll } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, statSync, rmSync, unlinkSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCerts, ensureDevPki } from '../../src/cli/certs.ts';
import { createProviderTransport } from '../../src/tls/transport.ts';
import { TempDir, startServer } from '../tls/pki-fixture.ts';
import { captureIo } from '../support/cli.ts';
import { root, runCli as runCliIn } from '../e2e/demo-suite.ts';

const tmp = new TempDir();
afterAll(() => tmp.remove());

describe('certs dev', () => {
  const dir = join(tmp.path, 'dev');

  test('creates a CA, a server certificate for localhost and two client certificates', async () => {
    const { out, io: o } = captureIo();
    expect(await runCerts(['dev', '--dir', dir], o)).toBe(0);
    expect(out.stdout).toContain('created ca.pem, ca-key.pem, server.pem');
    const ca = new X509Certificate(readFileSync(join(dir, 'ca.pem')));
    expect(ca.ca).toBe(true);
    const server = new X509Certificate(readFileSync(join(dir, 'server.pem')));
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    for (const stem of ['server', 'gateway-client', 'agency-client']) {
      const cert = new X509Certificate(readFileSync(join(dir, `${stem}.pem`)));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.checkIssued(ca)).toBe(true);
      expect(statSync(join(dir, `${stem}-key.pem`)).mode & 0o077).toBe(0);
    }
    expect(new X509Certificate(readFileSync(join(dir, 'agency-client.pem'))).subject).toBe(
      'CN=demo-service\nO=Demo Agency',
    );
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o077).toBe(0);
  });

  test('in a working directory that was removed meanwhile it fails at once, naming why', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'vpm-certs-gone-'));
    const cwd = process.cwd();
    process.chdir(gone);
    rmSync(gone, { recursive: true });
    const { out, io: o } = captureIo();
    let code: number;
    try {
      code = await runCerts(['dev'], o);
    } finally {
      process.chdir(cwd);
    }
    expect(code).not.toBe(0);
    expect(out.stderr).toMatch(/ENOENT/);
    expect(out.stdout).toBe('');
  });

  test('certificates and the folder are readable by other users (0644, 0755), private keys only by the owner (0600), whatever the umask', async () => {
    const d = join(tmp.path, 'modes');
    const umask = process.umask(0o077);
    try {
      await ensureDevPki(d);
    } finally {
      process.umask(umask);
    }
    const mode = (f: string) => statSync(join(d, f)).mode & 0o777;
    expect(statSync(d).mode & 0o777).toBe(0o755);
    for (const stem of ['ca', 'server', 'gateway-client', 'agency-client']) {
      expect([stem, mode(`${stem}.pem`)]).toEqual([stem, 0o644]);
      expect([stem, mode(`${stem}-key.pem`)]).toEqual([stem, 0o600]);
    }
    // a folder and files left by an older version (owner-only folder, keys too open) are put right on the next run
    chmodSync(d, 0o700);
    chmodSync(join(d, 'ca.pem'), 0o600);
    chmodSync(join(d, 'server-key.pem'), 0o644);
    expect((await ensureDevPki(d)).created).toEqual([]);
    expect(statSync(d).mode & 0o777).toBe(0o755);
    expect(mode('ca.pem')).toBe(0o644);
    expect(mode('server-key.pem')).toBe(0o600);
    rmSync(d, { recursive: true });
  });

  test('is idempotent: a second run keeps every file', async () => {
    const before = readFileSync(join(dir, 'server.pem'), 'utf8');
    const { out, io: o } = captureIo();
    expect(await runCerts(['dev', '--dir', dir], o)).toBe(0);
    expect(out.stdout).toContain('nothing changed');
    expect(readFileSync(join(dir, 'server.pem'), 'utf8')).toBe(before);
  });

  test('re-issues only a missing leaf, from the existing CA', async () => {
    const caBefore = readFileSync(join(dir, 'ca.pem'), 'utf8');
    unlinkSync(join(dir, 'agency-client.pem'));
    unlinkSync(join(dir, 'agency-client-key.pem'));
    const pki = await ensureDevPki(dir);
    expect(pki.created).toEqual(['agency-client.pem', 'agency-client-key.pem']);
    expect(readFileSync(join(dir, 'ca.pem'), 'utf8')).toBe(caBefore);
    expect(
      new X509Certificate(readFileSync(join(dir, 'agency-client.pem'))).checkIssued(new X509Certificate(caBefore)),
    ).toBe(true);
  });

  test('refuses to mint a new CA beside certificates of a lost one', async () => {
    const d = join(tmp.path, 'broken');
    await ensureDevPki(d);
    unlinkSync(join(d, 'ca-key.pem'));
    const { out, io: o } = captureIo();
    expect(await runCerts(['dev', '--dir', d], o)).toBe(1);
    expect(out.stderr).toBe(
      `certs dev: ${d}: the CA certificate or key is missing but other material exists; remove ${d} to start over\n`,
    );
    rmSync(d, { recursive: true });
  });

  test('the dev material works for mutual TLS end to end', async () => {
    const s = await startServer({
      cert: readFileSync(join(dir, 'server.pem')),
      key: readFileSync(join(dir, 'server-key.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
    });
    const t = createProviderTransport('dev', {
      ca: join(dir, 'ca.pem'),
      cert: join(dir, 'gateway-client.pem'),
      key: join(dir, 'gateway-client-key.pem'),
    });
    try {
      expect(await (await t.fetch(`${s.url}/`)).json()).toEqual({ ok: true, cn: 'vpm-gateway' });
    } finally {
      await t.close();
      await s.close();
    }
  });

  test('bad arguments print usage', async () => {
    const { out, io: o } = captureIo();
    expect(await runCerts(['prod'], o)).toBe(2);
    expect(await runCerts(['dev', '--bogus'], o)).toBe(2);
    expect(out.stderr).toContain('usage: vpm-gateway certs dev [--dir DIR]');
  });
});

describe('the https demo before its development PKI exists', () => {
  test('start and config check name the missing certs/dev files and the command that creates them', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vpm-no-pki-'));
    try {
      for (const args of [['start'], ['config', 'check']]) {
        const r = await runCliIn([...args, '--config', join(root, 'config/demo-https.yaml')], cwd);
        expect(r.code).toBe(1);
        expect(r.output).toContain('server.tls.cert: cannot read file certs/dev/server.pem: ENOENT');
        expect(r.output).toContain(
          'certs/dev is the development PKI: create it with "vpm-gateway certs dev" (npm run start:https does so first)\n',
        );
      }
      // once it exists, the hint is gone and the configuration passes
      expect((await runCliIn(['certs', 'dev'], cwd)).code).toBe(0);
      const checked = await runCliIn(['config', 'check', join(root, 'config/demo-https.yaml')], cwd);
      expect(checked).toMatchObject({ code: 0, output: expect.not.stringContaining('development PKI') });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 60_000);
});

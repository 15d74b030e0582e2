// Production mode refuses an unsafe store or listener (Redis without TLS or a password, plain http without
// named TLS terminators, terminator blocks that take in nearly every address) and private key files every
// local user may read, through `vpm-gateway config check` and `start` (./production-config.ts); and config
// check of the demo configuration writes nothing.
import { describe, test, expect } from '@jest/globals';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  copyFileSync,
  cpSync,
  rmSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { runCli } from '../support/cli.ts';
import { productionOidcEntry } from '../support/provider-entries.ts';
import { files, f, configCount, configFile, expectRefused, useProductionConfig } from './production-config.ts';

useProductionConfig();

describe('the store and the listener', () => {
  test('redis:// without TLS or a password', async () => {
    await expectRefused(configFile({ store: { type: 'redis', url: 'redis://127.0.0.1:6379' } }), [
      'store.url: must use TLS (rediss://) in production: the store holds whole identities',
      'store.url: must carry a password (rediss://:PASSWORD@host or user:PASSWORD) in production',
    ]);
  });

  test('a plain http listener without named TLS terminators, and proxy: true', async () => {
    await expectRefused(configFile({ proxy: false }), [
      'proxy: without server.tls the gateway listens on plain http: in production name the TLS terminators in front of it (addresses or CIDR blocks), or configure server.tls',
    ]);
    await expectRefused(configFile({ proxy: true }), [
      'proxy: true trusts X-Forwarded-For from any peer; name the TLS terminators (addresses or CIDR blocks) in production',
    ]);
    const tls = configFile({ proxy: false, server: { tls: { cert: f.server, key: f.serverKey } } });
    expect(await runCli(['config', 'check', tls.file])).toMatchObject({ code: 0, stderr: '' });
  });

  test('terminator blocks that take in nearly every address', async () => {
    // 2000::/3 is every global unicast IPv6 address
    const wide = ['0.0.0.0/0', '::/0', '::ffff:0:0/96', '0:0:0:0:0:FFFF:0:0/96', '::0:ffff:0.0.0.0/100', '2000::/3'];
    await expectRefused(
      configFile({ proxy: ['10.0.0.5', ...wide, '2001:db8::/32', '::ffff:10.0.0.0/104'] }),
      wide.map(
        (block, i) =>
          `proxy[${i + 1}]: ${block} trusts nearly any peer; name the TLS terminators' own addresses or blocks`,
      ),
    );
    const server = {
      tls: { cert: f.server, key: f.serverKey },
      client_certificate_header: {
        name: 'X-Client-Cert',
        trusted_proxies: ['10.0.0.1', '0.0.0.0/1', '::ffff:0:0/95', '::ffff:0:0/103', '::/80', '::ffff:10.0.0.0/104'],
      },
    };
    // ::ffff:0:0/95 and ::/80 take in every IPv4-mapped address, but no IPv4 peer is matched against an
    // IPv6 block (test/tls/inbound.test.ts), as Express's proxy-addr does
    await expectRefused(configFile({ proxy: false, server }), [
      "server.client_certificate_header.trusted_proxies[1]: 0.0.0.0/1 trusts nearly any peer; name the TLS terminators' own addresses or blocks",
      "server.client_certificate_header.trusted_proxies[3]: ::ffff:0:0/103 trusts nearly any peer; name the TLS terminators' own addresses or blocks",
    ]);
  });

  test('proxy entries must be addresses or CIDR blocks', async () => {
    const { file } = configFile({ proxy: ['loopback'] });
    expect(await runCli(['config', 'check', file])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('  proxy'),
    });
  });
});

describe('config check of the demo configuration', () => {
  test('writes no demo key material, keys or audit files', async () => {
    const cwd = process.cwd();
    const work = mkdtempSync(join(tmpdir(), 'vpm-demo-check-'));
    mkdirSync(join(work, 'config'));
    copyFileSync(resolve(cwd, 'config/demo.yaml'), join(work, 'config/demo.yaml'));
    for (const dir of ['registry', 'logos'])
      cpSync(resolve(cwd, 'config', dir), join(work, 'config', dir), { recursive: true });
    process.chdir(work);
    try {
      const result = await runCli(['config', 'check', 'config/demo.yaml']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(existsSync(join(work, 'var'))).toBe(false);
    } finally {
      process.chdir(cwd);
      rmSync(work, { recursive: true, force: true });
    }
  });
});

describe('private key files every local user may read', () => {
  test('a provider key, the server key, a key of the key set and the audit secrets, each named by its config path', async () => {
    const exposed = (name: string, content: string) => {
      const path = files.dir.write(name, content);
      chmodSync(path, 0o644);
      return path;
    };
    const providerKey = exposed('exposed-client-key.pem', readFileSync(f.clientKey!, 'utf8'));
    const serverKey = exposed('exposed-server-key.pem', readFileSync(f.serverKey!, 'utf8'));
    const c = configFile({
      providers: [productionOidcEntry({ ca: f.ca!, cert: f.client!, key: providerKey })],
      server: { tls: { cert: f.server!, key: serverKey } },
      proxy: false,
    });
    // the key set and the audit secrets as a copy made without keeping the modes would leave them
    const keysDir = join(files.dir.path, `keys-${configCount()}`);
    const auditKeyDir = join(files.dir.path, `audit-key-${configCount()}`);
    mkdirSync(keysDir);
    mkdirSync(auditKeyDir);
    const tokenKey = join(keysDir, 'token-1.jwk.json');
    writeFileSync(tokenKey, JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }));
    writeFileSync(join(keysDir, 'keys.json'), '{"keys":[]}', { mode: 0o644 }); // no private member: fine
    const cookieKey = join(keysDir, 'cookie-1.secret');
    writeFileSync(cookieKey, 'c'.repeat(43));
    const checkpointKey = join(auditKeyDir, 'checkpoint.pem');
    writeFileSync(checkpointKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const macKey = join(auditKeyDir, 'entry-mac.key');
    writeFileSync(macKey, 'x'.repeat(43));
    writeFileSync(join(auditKeyDir, 'subject-hash.key'), 'x'.repeat(43));
    // the modes set after writing, whatever the umask: 0644 read by all, 0602 written by all, 0640 group only
    chmodSync(tokenKey, 0o644);
    chmodSync(checkpointKey, 0o644);
    chmodSync(cookieKey, 0o602);
    chmodSync(macKey, 0o604);
    chmodSync(join(auditKeyDir, 'subject-hash.key'), 0o640);
    const advice = "chmod o-rwx (600, or 640 for the service's group)";
    const lines = [
      `server.tls.key: ${serverKey} holds private key material every local user may read (mode 0644): ${advice}`,
      `audit.signing_key: ${checkpointKey} holds private key material every local user may read (mode 0644): ${advice}`,
      `providers[0].tls.key: ${providerKey} holds private key material every local user may read (mode 0644): ${advice}`,
      `keys.dir: ${cookieKey} holds private key material every local user may write or run (mode 0602): ${advice}`,
      `keys.dir: ${tokenKey} holds private key material every local user may read (mode 0644): ${advice}`,
      `audit.entry_mac_key: ${macKey} holds private key material every local user may read (mode 0604): ${advice}`,
    ];
    const body = lines.map((l) => `  ${l}`).join('\n');
    expect(await runCli(['config', 'check', c.file])).toMatchObject({
      code: 1,
      stderr: `${c.file}: refused by the security checks\n${body}\n`,
    });
    // kept to owner and group, the same files pass
    for (const path of [providerKey, serverKey, tokenKey, checkpointKey, cookieKey, macKey]) chmodSync(path, 0o640);
    expect(await runCli(['config', 'check', c.file])).toMatchObject({ code: 0, stderr: '' });
  });
});

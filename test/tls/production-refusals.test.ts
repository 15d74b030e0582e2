// Production mode refuses what is unsafe, through the operator's real commands: `vpm-gateway config
// check FILE` and `vpm-gateway start --config FILE` (src/cli/main.ts main()) refuse the same file with
// the same lines, each naming its config path, and `start` refuses before it writes anything: no token
// key, no audit key, no audit directory, no adapter key is left behind.
import { describe, test, expect, beforeAll, afterAll } from '@jest/globals';
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
import { stringify } from 'yaml';
import { runCli } from '../support/cli.ts';
import { issueCertificate, type CertificateAuthority } from '../../src/tls/pki.ts';
import { MOCK_PROVIDER, productionBankEntry, productionOidcEntry } from '../support/provider-entries.ts';
import { TempDir, createCa, serverCert } from './pki-fixture.ts';

let dir: TempDir;
let ca: CertificateAuthority;
const f: Record<string, string> = {};
let n = 0;

const oidcProvider = (extra: Record<string, unknown> = {}) =>
  productionOidcEntry({ ca: f.ca!, cert: f.client!, key: f.clientKey! }, extra);

const bank = (extra: Record<string, unknown> = {}) =>
  productionBankEntry({ private_key: f.bankKey!, bank_certificate: f.bankCert! }, extra);

const CLIENT = {
  client_id: 'svc',
  client_secret: 'service-secret-0123456789-0123456789',
  redirect_uris: ['https://svc.example.lv/cb'],
};

/** Where `start` would write: checked to be absent after every refusal. */
function outputs(k: number) {
  return { keys: `${dir.path}/keys-${k}`, audit: `${dir.path}/audit-${k}`, auditKey: `${dir.path}/audit-key-${k}` };
}

/** A sound production configuration behind a TLS terminator, with `change` applied; written to its own file. */
function configFile(change: Record<string, unknown> = {}): { file: string; written: string[] } {
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
  return { file: dir.write(`config-${n}.yaml`, stringify(config)), written: Object.values(out) };
}

/** Both commands refuse the file with exactly these lines, and `start` leaves nothing behind. */
async function expectRefused({ file, written }: { file: string; written: string[] }, lines: string[]) {
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

beforeAll(async () => {
  dir = new TempDir();
  ca = await createCa({ commonName: 'Production refusals CA', pathLength: 0 });
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

afterAll(() => dir.remove());

describe('the baseline', () => {
  test('a sound production configuration behind named TLS terminators passes, and config check writes nothing', async () => {
    const c = configFile();
    expect(await runCli(['config', 'check', c.file])).toEqual({
      code: 0,
      stdout: `${c.file}: ok (1 clients, 1 providers)\n`,
      stderr: '',
    });
    for (const path of c.written) expect(existsSync(path)).toBe(false);
  });

  test('rediss:// with a password passes config check without connecting to it', async () => {
    const c = configFile({ store: { type: 'redis', url: 'rediss://:a-long-redis-password@redis.invalid:6380' } });
    expect(await runCli(['config', 'check', c.file])).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('development-only peers', () => {
  test('a mock provider, even at onboarding stage production', async () => {
    await expectRefused(configFile({ providers: [oidcProvider(), MOCK_PROVIDER] }), [
      'providers[1].type: the mock provider lets anyone log in as its test persons; refused in production',
    ]);
  });

  test('a provider pointing at the in-process demo peers', async () => {
    await expectRefused(
      configFile({ providers: [oidcProvider(), bank({ url: 'https://gw.example.lv/demo/banks/demo-bank/' })] }),
      [
        'providers[1].url: points at the in-process demo peers under https://gw.example.lv/demo/ (development only); refused in production',
      ],
    );
    // any field of an entry, not only a bank's url: here an upstream OpenID provider's issuer
    await expectRefused(configFile({ providers: [oidcProvider({ issuer: 'https://gw.example.lv/demo/oidc-eid' })] }), [
      'providers[0].issuer: points at the in-process demo peers under https://gw.example.lv/demo/ (development only); refused in production',
    ]);
  });
});

describe('short secrets', () => {
  test('pairwise_salt', async () => {
    await expectRefused(
      configFile({ pairwise_salt: 'x', clients: [{ ...CLIENT, subject_type: 'pairwise', scopes: ['profile'] }] }),
      ['pairwise_salt: must be at least 32 characters in production'],
    );
  });

  test('a cookie key (refused by the cross-setting checks: configuration is invalid)', async () => {
    const { file } = configFile({ cookie_keys: ['short'] });
    for (const argv of [
      ['config', 'check', file],
      ['start', '--config', file],
    ]) {
      expect(await runCli(argv)).toMatchObject({
        code: 1,
        stderr: `${file}: configuration is invalid\n  cookie_keys[0]: must be at least 32 characters in production\n`,
      });
    }
  });
});

describe('agency certificates without a client CA', () => {
  const mtlsClient = {
    client_id: 'svc-mtls',
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: 'CN=svc,O=Agency',
    redirect_uris: ['https://svc.example.lv/cb'],
  };

  test("on the gateway's own mutual-TLS listener the process's default CA store would decide", async () => {
    const server = { tls: { cert: f.server, key: f.serverKey }, mtls: { port: 8443 } };
    await expectRefused(configFile({ server, clients: [CLIENT, mtlsClient] }), [
      "server.tls.client_ca: required in production: clients[1] uses tls_client_auth, and without it any certificate of the process's default CA store would be accepted",
    ]);
  });

  test('forwarded by a TLS terminator', async () => {
    const server = { client_certificate_header: { name: 'X-Client-Cert', trusted_proxies: ['10.0.0.1'] } };
    await expectRefused(configFile({ server, clients: [CLIENT, mtlsClient] }), [
      'server.client_certificate_header.client_ca: required in production: clients[1] uses tls_client_auth, and forwarded certificates must chain to the agency CA',
    ]);
  });
});

describe("agency services' keys", () => {
  test('an http jwks_uri: anyone on the way to it could sign client assertions as the service', async () => {
    const { file } = configFile({
      clients: [
        CLIENT,
        {
          client_id: 'svc-jwt',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks_uri: 'http://svc.example.lv/jwks',
          redirect_uris: ['https://svc.example.lv/cb'],
        },
      ],
    });
    for (const argv of [
      ['config', 'check', file],
      ['start', '--config', file],
    ])
      expect(await runCli(argv)).toMatchObject({
        code: 1,
        stderr: expect.stringContaining('  clients[1].jwks_uri: must be https in production\n'),
      });
  });
});

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

describe("adapter kinds' own production rules", () => {
  test('an http banklink url', async () => {
    await expectRefused(configFile({ providers: [oidcProvider(), bank({ url: 'http://bank.example.lv/banklink' })] }), [
      'providers[1].url: must be https in production',
    ]);
  });

  test('an http jwks_uri with private_key_jwt: refused before the client assertion key is generated', async () => {
    const metadata = {
      authorization_endpoint: 'https://eid.example.lv/auth',
      token_endpoint: 'https://eid.example.lv/token',
      jwks_uri: 'http://eid.example.lv/jwks',
    };
    await expectRefused(
      configFile({ providers: [oidcProvider({ metadata, client_auth: { method: 'private_key_jwt' } })] }),
      ['providers[0].metadata.jwks_uri: must be https in production'],
    );
  });

  test('every problem at once, in one list', async () => {
    const c = configFile({
      pairwise_salt: 'x',
      providers: [oidcProvider(), bank({ url: 'http://bank.example.lv/banklink' }), MOCK_PROVIDER],
    });
    await expectRefused(c, [
      'pairwise_salt: must be at least 32 characters in production',
      'providers[1].url: must be https in production',
      'providers[2].type: the mock provider lets anyone log in as its test persons; refused in production',
    ]);
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
      const path = dir.write(name, content);
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
    const keysDir = join(dir.path, `keys-${n}`);
    const auditKeyDir = join(dir.path, `audit-key-${n}`);
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

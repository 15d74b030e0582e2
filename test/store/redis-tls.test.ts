// Redis over TLS, against real redis-server processes that listen on a TLS port only: certificates from a
// test CA made here, an ACL user confined to the gateway's key prefix (the default user switched off), and a
// second server that demands client certificates (mutual TLS, store.cert and store.key). The store
// conformance suite and whole logins pass over them; the `keys` commands reach a key set kept in the store
// over TLS; and a start that cannot use the store (a server certificate from another CA or for another
// name, a wrong password, no client certificate) is refused with one line saying which, at once.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { stringify } from 'yaml';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { claimsOf, loginThroughMock, rpConfig, RP_REDIRECT, RP_SECRET, startGateway } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';
import { CLI, NODE } from '../e2e/demo-suite.ts';
import { storeConformance } from './conformance.ts';
import { productionRedisFile } from './production-file.ts';
import { redisHarness } from './redis-harness.ts';
import { RedisFleet } from './redis-fleet.ts';
import { type RedisProcess, until } from './redis-processes.ts';
import type { Redis } from 'ioredis';

const fleet = new RedisFleet();
const PASSWORD = `gw-${randomBytes(12).toString('hex')}`;
const ADMIN_PASSWORD = `admin-${randomBytes(12).toString('hex')}`;
/** the gateway's ACL user may touch keys under this prefix only */
const PREFIX = 'vpmtls:';
const files = {
  ca: join(fleet.dir, 'ca.pem'),
  otherCa: join(fleet.dir, 'other-ca.pem'),
  cert: join(fleet.dir, 'redis.pem'),
  key: join(fleet.dir, 'redis-key.pem'),
  clientCert: join(fleet.dir, 'gateway.pem'),
  clientKey: join(fleet.dir, 'gateway-key.pem'),
};
/** TLS with an ACL user; mutual TLS with requirepass */
let acl: RedisProcess;
let mutual: RedisProcess;

beforeAll(async () => {
  const ca = await createCa({ commonName: 'Test Redis CA' });
  const other = await createCa({ commonName: 'Another CA' });
  // the certificate names 127.0.0.1 and redis.test, not localhost
  const server = await issueCertificate(ca, {
    commonName: 'redis.test',
    usage: 'server',
    dnsNames: ['redis.test'],
    ipAddresses: ['127.0.0.1'],
  });
  const client = await issueCertificate(ca, { commonName: 'vpm-gateway', usage: 'client' });
  for (const [path, text] of [
    [files.ca, ca.cert],
    [files.otherCa, other.cert],
    [files.cert, server.cert],
    [files.key, server.key],
    [files.clientCert, client.cert],
    [files.clientKey, client.key],
  ] as const)
    writeFileSync(path, text, { mode: 0o600 });
  acl = await fleet.tlsServer(files, {
    extra: [
      ...['--user', 'default', 'off'],
      ...['--user', 'gateway', 'on', `>${PASSWORD}`, `~${PREFIX}*`, '+@all'],
      ...['--user', 'admin', 'on', `>${ADMIN_PASSWORD}`, '~*', '+@all'],
    ],
  });
  mutual = await fleet.tlsServer(files, {
    client: { cert: files.clientCert, key: files.clientKey },
    extra: ['--requirepass', PASSWORD],
  });
}, 60_000);
afterAll(() => fleet.stop());

const aclUrl = (password = PASSWORD, host = '127.0.0.1') => `rediss://gateway:${password}@${host}:${acl.port}`;

describe('TLS and an ACL user', () => {
  storeConformance('redis over TLS', async () => redisHarness({ url: aclUrl(), ca: files.ca }, PREFIX));

  test('a whole login through a gateway whose store.url is rediss://', async () => {
    const prefix = `${PREFIX}gw-${randomBytes(4).toString('hex')}:`;
    const gw = await startGateway({
      settings: { store: { type: 'redis', url: aclUrl(), ca: files.ca, prefix } },
    });
    try {
      const rp = await rpConfig(gw.issuer);
      const login = await loginThroughMock(rp);
      expect((await claimsOf(rp, login, login.callback!)).personal_code).toBeDefined();
      expect(await gw.gateway.readiness()).toMatchObject({ ready: true, checks: { store: 'ok' } });
      // what the login left in Redis lies under the gateway's prefix (the ACL user could write nowhere else)
      const admin = new RedisStore({ url: aclUrl(ADMIN_PASSWORD).replace('gateway:', 'admin:'), ca: files.ca, prefix });
      try {
        expect((await admin.client.keys(`${prefix}oidc:*`)).length).toBeGreaterThan(0);
      } finally {
        await admin.close();
      }
    } finally {
      await gw.close();
    }
  });
});

describe('mutual TLS: store.cert and store.key', () => {
  const store = () => ({
    type: 'redis',
    url: `rediss://127.0.0.1:${mutual.port}`,
    password: PASSWORD,
    ca: files.ca,
    cert: files.clientCert,
    key: files.clientKey,
    prefix: `${PREFIX}m${randomBytes(4).toString('hex')}:`,
  });

  test('keys init and status reach a key set kept in the store; a gateway on it serves a login', async () => {
    const settings = { store: store(), keys: { source: 'store', dir: join(fleet.dir, 'never-written') } };
    const file = join(fleet.dir, `keys-${randomBytes(4).toString('hex')}.yaml`);
    writeFileSync(
      file,
      stringify({
        issuer: 'http://127.0.0.1:1',
        clients: [{ client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
        providers: [],
        ...settings,
      }),
    );
    expect(await runCli(['keys', 'init', '--config', file])).toMatchObject({ code: 0, stderr: '' });
    const status = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout);
    const gw = await startGateway({ settings });
    try {
      expect(gw.gateway.keys.ring.view.digest).toBe(status.digest);
      const rp = await rpConfig(gw.issuer);
      const login = await loginThroughMock(rp);
      expect((await claimsOf(rp, login, login.callback!)).personal_code).toBeDefined();
    } finally {
      await gw.close();
    }
  });

  test('a password changed on the server: an outage naming WRONGPASS once the connection is made again; over when it is put back', async () => {
    const options = { ...store(), prefix: `${PREFIX}p${randomBytes(4).toString('hex')}:` };
    const gateway = new RedisStore(options);
    const operator = new RedisStore(options);
    const failure = () =>
      gateway.get('k').then(
        () => '',
        (err: Error) => `${err.name}: ${err.message}`,
      );
    try {
      await gateway.set('k', 'v', 60);
      await operator.client.config('SET', 'requirepass', 'another-password');
      try {
        // Redis keeps connections that authenticated before the change: the gateway's is cut, so it reconnects
        await (operator.client as Redis).client('KILL', 'ID', String(await (gateway.client as Redis).client('ID')));
        // between the cut and the refused reconnection commands meet no connection at all
        await until(async () => (await failure()).includes('WRONGPASS'), 'the reconnection refused');
        expect(await failure()).toBe(
          'StoreUnavailableError: redis (standalone) unavailable: Redis refused the user name or password (WRONGPASS)',
        );
      } finally {
        await operator.client.config('SET', 'requirepass', PASSWORD);
      }
      await until(async () => (await gateway.get('k').catch(() => undefined)) === 'v', 'the store back');
    } finally {
      await gateway.close();
      await operator.close();
    }
  });
});

describe('a start that cannot use the store is refused with one line', () => {
  const productionFile = (store: Record<string, unknown>, source: 'dir' | 'store' = 'dir') =>
    productionRedisFile(fleet.dir, { prefix: PREFIX, ...store }, source);

  const unavailable = 'store: redis (standalone) unavailable:';
  test.each([
    [
      'a server certificate signed by another CA',
      () => ({ url: aclUrl(), ca: files.otherCa }),
      `${unavailable} its TLS certificate is not trusted: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN); store.ca must hold the CA that signed it`,
    ],
    [
      'a host name the certificate does not carry',
      () => ({ url: aclUrl(PASSWORD, 'localhost'), ca: files.ca }),
      `${unavailable} its TLS certificate does not name the host: Host: localhost. is not in the cert's altnames: DNS:redis.test, IP Address:127.0.0.1`,
    ],
    [
      'a wrong password',
      () => ({ url: aclUrl('not-the-password'), ca: files.ca }),
      `${unavailable} Redis refused the user name or password (WRONGPASS)`,
    ],
    [
      'no client certificate where the server demands one',
      () => ({ url: `rediss://:${PASSWORD}@127.0.0.1:${mutual.port}`, ca: files.ca }),
      // TLS 1.3: the server refuses after the handshake, so the client sees the connection closed
      expect.stringMatching(
        /store: redis \(standalone\) unavailable: the server closed the connection \(ECONNRESET\): does it want TLS \(rediss:\/\/\) or a client certificate \(store\.cert, store\.key\)\?|the TLS handshake failed: .*CERTIFICATE_REQUIRED/,
      ),
    ],
  ])('%s', async (_name, store, line) => {
    const file = await productionFile(store());
    const start = await runCli(['start', '--config', file, '--workers', '1']);
    expect(start.code).toBe(1);
    expect(start.stderr.split('\n').filter(Boolean)).toEqual([typeof line === 'string' ? `${file}: ${line}` : line]);
    expect(start.stderr).not.toContain(PASSWORD);
  });

  test('the process ends by itself: exit 1, no stack trace, no password (keys.source: store, read first)', async () => {
    const file = await productionFile({ url: aclUrl(), ca: files.otherCa }, 'store');
    const child = spawn(NODE, [CLI, 'start', '--config', file, '--workers', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise<number | null>((ok) => child.once('exit', ok))).toBe(1);
    expect(stderr.split('\n').filter((line) => line && !line.startsWith('{'))).toEqual([
      `${file}: ${unavailable} its TLS certificate is not trusted: self-signed certificate in certificate chain (SELF_SIGNED_CERT_IN_CHAIN); store.ca must hold the CA that signed it`,
    ]);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr).not.toContain(PASSWORD);
  }, 60_000);
});

// store.url forms and their refusals: the three deployment forms parse, a bad URL is refused without
// quoting it (it may carry the password), TLS files need a rediss:// URL (a client certificate with its
// key) and are checked like every certificate, and production wants TLS and a password for every form.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeSchema } from '../../src/config/store-schema.ts';
import { checkSecurity } from '../../src/tls/security-checks.ts';
import { createCa } from '../../src/tls/pki.ts';
import { parseRedisUrl } from '../../src/store/redis-url.ts';
import { productionProblems } from '../../src/config/production.ts';
import type { GatewayConfig } from '../../src/config/load.ts';

test('one server, Sentinel and Cluster', () => {
  expect(parseRedisUrl('rediss://app:s%40cret@redis.example.lv:6380/2')).toEqual({
    mode: 'standalone',
    tls: true,
    nodes: [{ host: 'redis.example.lv', port: 6380 }],
    db: 2,
    username: 'app',
    password: 's@cret',
  });
  expect(parseRedisUrl('redis+sentinel://:pw@10.0.0.1:26379,10.0.0.2,[::1]:26380/vpm')).toMatchObject({
    mode: 'sentinel',
    tls: false,
    name: 'vpm',
    password: 'pw',
    nodes: [
      { host: '10.0.0.1', port: 26379 },
      { host: '10.0.0.2', port: 26379 },
      { host: '::1', port: 26380 },
    ],
  });
  expect(parseRedisUrl('rediss+cluster://a:7000,b:7001')).toMatchObject({ mode: 'cluster', tls: true });
});

test.each([
  ['http://:hunter2@h:6379', /must be redis/],
  ['redis://:hunter2@a:1,b:2', /several hosts/],
  ['redis+sentinel://:hunter2@a:26379', /master name/],
  ['redis+cluster://:hunter2@a:7000/3', /Cluster/],
  ['redis://:hunter2@h:99999', /host/],
])('%s is refused without quoting it', (url, message) => {
  const result = storeSchema.safeParse({ type: 'redis', url });
  expect(result.success).toBe(false);
  const text = JSON.stringify(result.error?.issues);
  expect(text).toMatch(message);
  expect(text).not.toContain('hunter2');
});

test('wait_replicas is refused on Cluster, sentinel_password needs Sentinel', () => {
  const cluster = storeSchema.safeParse({ type: 'redis', url: 'redis+cluster://a:7000', wait_replicas: 1 });
  expect(cluster.error?.issues.map((i) => i.path.join('.'))).toEqual(['wait_replicas']);
  const plain = storeSchema.safeParse({ type: 'redis', url: 'redis://a:6379', sentinel_password: 'x' });
  expect(plain.error?.issues.map((i) => i.path.join('.'))).toEqual(['sentinel_password']);
});

describe('TLS files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-redis-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pem = join(dir, 'any.pem');
  writeFileSync(pem, 'not checked by the schema');
  const issues = (store: Record<string, unknown>) =>
    storeSchema.safeParse({ type: 'redis', ...store }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  test('ca, cert and key with a plain redis:// url are refused: the link would not be encrypted', () => {
    expect(issues({ url: 'redis://:pw@a:6379', ca: pem, cert: pem, key: pem })).toEqual([
      'ca: needs a rediss:// url (TLS)',
      'cert: needs a rediss:// url (TLS)',
      'key: needs a rediss:// url (TLS)',
    ]);
    expect(issues({ url: 'rediss://:pw@a:6379', ca: pem, cert: pem, key: pem })).toBeUndefined();
  });

  test('a client certificate goes with its key', () => {
    expect(issues({ url: 'rediss://a:6379', cert: pem })).toEqual([
      'key: cert and key go together (mutual TLS); give key as well, or neither',
    ]);
    expect(issues({ url: 'rediss://a:6379', key: pem })).toEqual([
      'cert: cert and key go together (mutual TLS); give cert as well, or neither',
    ]);
  });

  test('an expired store.ca is refused in production, as every certificate is', async () => {
    const expired = await createCa({
      commonName: 'Old Redis CA',
      notBefore: new Date('2020-01-01T00:00:00Z'),
      notAfter: new Date('2021-01-01T00:00:00Z'),
    });
    const ca = join(dir, 'old-ca.pem');
    writeFileSync(ca, expired.cert);
    const store = storeSchema.parse({ type: 'redis', url: 'rediss://:pw@a:6379', ca });
    expect(checkSecurity({ production: true, store }).errors).toEqual([
      'store.ca: certificate CN=Old Redis CA expired on 2021-01-01T00:00:00.000Z',
    ]);
  });
});

const production = (store: Record<string, unknown>) =>
  productionProblems({
    production: true,
    issuer: 'https://gw.example.lv',
    proxy: ['10.0.0.0/8'],
    clients: [],
    providers: [],
    keys: { source: 'dir', dir: 'var/keys', publish_delay: 600, reload_interval: 30 },
    audit: { signing_key: 'var/audit-key/checkpoint.pem' },
    store: storeSchema.parse({ type: 'redis', ...store }),
  } as unknown as GatewayConfig);

test.each([
  ['redis+sentinel://:pw@a:26379/vpm', 'rediss+sentinel://'],
  ['redis+cluster://:pw@a:7000', 'rediss+cluster://'],
  ['redis://:pw@a:6379', 'rediss://'],
])('production refuses %s without TLS', (url, scheme) => {
  expect(production({ url })).toEqual([
    `store.url: must use TLS (${scheme}) in production: the store holds whole identities`,
  ]);
});

test('production wants a password for every form; store.password counts', () => {
  for (const url of ['rediss+sentinel://a:26379/vpm', 'rediss+cluster://a:7000', 'rediss://a:6379'])
    expect(production({ url })).toEqual([
      'store.url: must carry a password (rediss://:PASSWORD@host or user:PASSWORD) in production',
    ]);
  expect(production({ url: 'rediss+sentinel://a:26379/vpm', password: 'from-a-secret' })).toEqual([]);
});

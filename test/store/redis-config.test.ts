// store.url forms and their refusals: the three deployment forms parse, a bad URL is refused without
// quoting it (it may carry the password), and production wants TLS and a password for every form.
import { storeSchema } from '../../src/config/schema.ts';
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

const production = (store: Record<string, unknown>) =>
  productionProblems({
    production: true,
    issuer: 'https://gw.example.lv',
    proxy: ['10.0.0.0/8'],
    clients: [],
    providers: [],
    keys: { source: 'dir', dir: 'var/keys', publish_delay: 600, reload_interval: 30 },
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

// The store conformance suite against a real three-node Redis Cluster the test creates (redis-server
// --cluster-enabled yes, joined by redis-cli --cluster create). Keys of one login spread over slots on
// different nodes, so a multi-key command spanning slots would fail here with CROSSSLOT.
import { randomBytes } from 'node:crypto';
import { RedisStore } from '../../src/store/redis.ts';
import { storeConformance } from './conformance.ts';
import { RedisFleet } from './redis-fleet.ts';
import { haveRedisCli } from './redis-processes.ts';

const fleet = new RedisFleet();
let seeds = '';

beforeAll(async () => {
  if (!(await haveRedisCli())) throw new Error('redis-cli is needed to create the test cluster (package redis-tools)');
  const nodes = await fleet.cluster();
  seeds = nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
}, 60_000);
afterAll(() => fleet.stop());

/** Every key under `prefix` on every master (KEYS answers for one node only). */
async function clusterKeys(store: RedisStore, prefix: string): Promise<string[]> {
  const masters = (store.client as import('ioredis').Cluster).nodes('master');
  return (await Promise.all(masters.map((node) => node.keys(`${prefix}*`)))).flat();
}

storeConformance('redis cluster', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ url: `redis+cluster://${seeds}`, prefix });
  return {
    store,
    advance: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000 + 100)),
    keys: () => clusterKeys(store, prefix),
    teardown: () => store.close(),
  };
});

test('keys of one delete lie on several nodes, and all of them go', async () => {
  const prefix = `vpmtest:${randomBytes(6).toString('hex')}:`;
  const store = new RedisStore({ url: `redis+cluster://${seeds}`, prefix });
  const keys = Array.from({ length: 12 }, (_, i) => `oidc:AccessToken:k${i}`);
  for (const key of keys) await store.set(key, 'v', 60);
  const masters = (store.client as import('ioredis').Cluster).nodes('master');
  const holding = await Promise.all(masters.map(async (node) => (await node.keys(`${prefix}*`)).length));
  expect(holding.filter((n) => n > 0).length).toBeGreaterThan(1);
  await store.delete(...keys);
  expect(await clusterKeys(store, prefix)).toEqual([]);
  await store.close();
});

test('Cluster refuses wait_replicas: WAIT would reach a node other than the one written', () => {
  expect(() => new RedisStore({ url: `redis+cluster://${seeds}`, prefix: 'x:', wait_replicas: 1 })).toThrow(
    /not available on Cluster/,
  );
});

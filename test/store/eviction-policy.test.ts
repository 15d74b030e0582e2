// A Redis that may evict the store's keys (every key has a TTL, so volatile-* policies may drop any of them
// as allkeys-* do) would re-open single-use markers to replay. Real redis-server processes, one per policy:
// in production `start` refuses each evicting policy, read through INFO (CONFIG disabled, as on managed
// Redis) or refused by the user's ACL, before it writes anything; `noeviction` starts. A production gateway
// whose Redis starts evicting meets it at the next connection: logins get the retry page and /readyz 503
// until the policy is noeviction again. Outside production a warning, on one server, on a Cluster node
// and on the replica Sentinel promotes.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createCa, issueCertificate } from '../../src/tls/pki.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { loginThroughMock, rpConfig, RP_REDIRECT, startGateway } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';
import { RedisFleet } from './redis-fleet.ts';
import { productionRedisFile } from './production-file.ts';
import { command, haveRedisCli, until } from './redis-processes.ts';
import { Redis } from 'ioredis';
import { request } from 'undici';

const fleet = new RedisFleet();
const PASSWORD = `gw-${randomBytes(12).toString('hex')}`;
const files = {
  ca: join(fleet.dir, 'ca.pem'),
  cert: join(fleet.dir, 'redis.pem'),
  key: join(fleet.dir, 'redis-key.pem'),
};
const EVICTING = [
  'volatile-lru',
  'allkeys-lru',
  'volatile-lfu',
  'allkeys-lfu',
  'volatile-random',
  'allkeys-random',
  'volatile-ttl',
];
const WHY =
  'every key has a TTL, so under memory pressure any may be dropped, and a dropped spent marker, replay-cache ' +
  'entry or nonce lets a code, assertion or nonce be used again; set maxmemory-policy noeviction (a full Redis ' +
  'then refuses writes, which the gateway answers with its retry page)';

beforeAll(async () => {
  const ca = await createCa({ commonName: 'Eviction test CA' });
  const server = await issueCertificate(ca, { commonName: 'redis.test', usage: 'server', ipAddresses: ['127.0.0.1'] });
  for (const [path, text] of [
    [files.ca, ca.cert],
    [files.cert, server.cert],
    [files.key, server.key],
  ] as const)
    writeFileSync(path, text, { mode: 0o600 });
}, 30_000);
afterAll(() => fleet.stop());

/** A TLS server with a password, as production wants; `extra`: its policy, its ACL. */
const tlsServer = (extra: string[]) => fleet.tlsServer(files, { extra: ['--requirepass', PASSWORD, ...extra] });
/** One command to the TLS server at `port` as its operator (the default user). */
async function ask(port: number, ...args: string[]): Promise<unknown> {
  const admin = new Redis({ host: '127.0.0.1', port, password: PASSWORD, tls: { ca: readFileSync(files.ca) } });
  try {
    return await admin.call(args[0]!, ...args.slice(1));
  } finally {
    admin.disconnect();
  }
}

/** A production configuration on the TLS server at `port`. */
const productionFile = (port: number, url = `rediss://:${PASSWORD}@127.0.0.1:${port}`) =>
  productionRedisFile(fleet.dir, { url, ca: files.ca });

describe('production', () => {
  test.each(EVICTING)(
    'maxmemory-policy %s: start is refused, naming store, before anything is written',
    async (policy) => {
      // CONFIG renamed away, as managed Redis (ElastiCache) disables it: the policy is read from INFO memory
      const redis = await tlsServer(['--maxmemory-policy', policy, '--rename-command', 'CONFIG', '']);
      const file = await productionFile(redis.port);
      const start = await runCli(['start', '--config', file, '--workers', '1']);
      expect(start).toMatchObject({
        code: 1,
        stderr: `${file}: refusing to start:\n  store: Redis may evict the gateway's keys (maxmemory-policy ${policy} on 127.0.0.1:${redis.port}): ${WHY}\n`,
      });
      expect(await ask(redis.port, 'DBSIZE')).toBe(0);
      await redis.kill();
    },
  );

  test('a user whose ACL forbids INFO: the policy is unknown, and refused as such', async () => {
    const redis = await fleet.tlsServer(files, {
      extra: ['--user', 'default', 'off', '--user', 'gw', 'on', `>${PASSWORD}`, '~*', '+@all', '-info'],
    });
    const file = await productionFile(redis.port, `rediss://gw:${PASSWORD}@127.0.0.1:${redis.port}`);
    const start = await runCli(['start', '--config', file, '--workers', '1']);
    expect(start.code).toBe(1);
    expect(start.stderr).toMatch(
      new RegExp(
        `^${file}: refusing to start:\\n  store: Redis may evict the gateway's keys \\(maxmemory-policy unknown on 127\\.0\\.0\\.1:${redis.port} \\(INFO refused: NOPERM [^)]*'info'[^)]*; let the gateway's Redis user run INFO\\)\\): every key has a TTL`,
      ),
    );
    await redis.kill();
  });

  describe('noeviction: the gateway starts; a Redis that evicts by the next connection is refused until fixed', () => {
    let gateway: Gateway;
    let server: http.Server;
    let port: number;
    let redisPort: number;
    const logger = memoryLogger();
    /** A request as the TLS terminator passes it on (fetch may not set Host; undici's request may). */
    const send = async (path: string) => {
      const answer = await request(`http://127.0.0.1:${port}${path}`, {
        headers: { host: 'gw.example.lv', 'x-forwarded-proto': 'https' },
      });
      return { status: answer.statusCode, headers: answer.headers, body: await answer.body.text() };
    };
    const AUTH = `/auth?${new URLSearchParams({ client_id: 'rp', response_type: 'code', scope: 'openid', redirect_uri: RP_REDIRECT, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', state: 'state-0123456789' })}`;

    beforeAll(async () => {
      const redis = await tlsServer(['--maxmemory-policy', 'noeviction']);
      redisPort = redis.port;
      const config = loadConfigFile(await productionFile(redis.port), { factories: ADAPTER_FACTORIES });
      gateway = await createGateway(config, { audit: new MemoryAuditLog(), logger });
      server = http.createServer(gateway.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    }, 30_000);
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await gateway?.close();
    });

    test('ready and serving; after a reconnection to a volatile-lru Redis the retry page and /readyz 503, then back', async () => {
      expect((await send('/readyz')).status).toBe(200);
      expect((await send(AUTH)).status).toBe(303);

      expect(await ask(redisPort, 'CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru')).toBe('OK');
      // a failover, a restart or a network cut: the gateway connects again and looks again
      expect(await ask(redisPort, 'CLIENT', 'KILL', 'TYPE', 'normal')).toBeGreaterThan(0);
      const lines = (logger as { lines?: string[] }).lines ?? [];
      const noticed = () =>
        lines.some((l) => l.includes('store may evict keys: requests refused') && l.includes('volatile-lru'));
      await until(async () => noticed(), 'the policy read again');
      expect((await send('/readyz')).status).toBe(503);
      const refused = await send(AUTH);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.body).toContain('<html');
      expect(lines.at(-1)).toContain("Redis may evict the gateway's keys (maxmemory-policy volatile-lru on");
      expect(lines.some((l) => l.includes('request failed'))).toBe(false);

      expect(await ask(redisPort, 'CONFIG', 'SET', 'maxmemory-policy', 'noeviction')).toBe('OK');
      await until(async () => (await send('/readyz')).status === 200, '/readyz ready again');
      expect((await send(AUTH)).status).toBe(303);
    });
  });
});

describe('outside production: a warning, and the gateway serves', () => {
  test('one server with allkeys-lru', async () => {
    const redis = await fleet.server(['--maxmemory-policy', 'allkeys-lru']);
    const gw = await startGateway({ settings: { store: { type: 'redis', url: `redis://127.0.0.1:${redis.port}` } } });
    try {
      expect(
        gw.logLines.some(
          (l) =>
            l.includes('store may evict keys (refused in production)') &&
            l.includes(`allkeys-lru on 127.0.0.1:${redis.port}`),
        ),
      ).toBe(true);
      const login = await loginThroughMock(await rpConfig(gw.issuer));
      expect(login.callback?.searchParams.get('code')).toBeTruthy();
    } finally {
      await gw.close();
    }
  });

  test('Cluster: every node is read, the one that evicts is named', async () => {
    if (!(await haveRedisCli())) throw new Error('redis-cli is needed to create the cluster');
    const nodes = await fleet.cluster();
    expect(await command(nodes[1]!.port, 'CONFIG', 'SET', 'maxmemory-policy', 'volatile-lfu')).toBe('+OK\r\n');
    const url = `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`;
    const gw = await startGateway({ settings: { store: { type: 'redis', url } } });
    try {
      const warning = gw.logLines.find((l) => l.includes('store may evict keys'));
      expect(warning).toContain(`(maxmemory-policy volatile-lfu on 127.0.0.1:${nodes[1]!.port}):`);
    } finally {
      await gw.close();
    }
  }, 60_000);

  test('Sentinel: the primary is read at start, the replica it promotes once the gateway connects to it', async () => {
    const set = await fleet.sentinelled(1);
    // started right after its primary
    const replica = fleet.processes[fleet.processes.indexOf(set.primary) + 1]!;
    expect(await command(replica.port, 'CONFIG', 'SET', 'maxmemory-policy', 'allkeys-random')).toBe('+OK\r\n');
    const gw = await startGateway({ settings: { store: { type: 'redis', url: set.url, wait_replicas: 0 } } });
    try {
      expect(gw.logLines.some((l) => l.includes('store may evict keys'))).toBe(false);
      expect(await command(set.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', 'vpm')).toBe('+OK\r\n');
      await until(async () => (await set.primaryPort()) === replica.port, 'the replica promoted');
      // the gateway finds the new primary once its connection to the old one is dropped
      await until(
        async () => gw.logLines.some((l) => l.includes(`allkeys-random on 127.0.0.1:${replica.port}`)),
        'the promoted replica read',
      );
    } finally {
      await gw.close();
    }
  }, 60_000);
});

// Several gateway instances of one deployment: the same configuration (issuer, keys.dir, one Redis under
// a private prefix), each on its own listener, behind a round-robin balancer that owns the issuer URL, so
// a login's requests land on different instances as they would behind a real load balancer. The clock the
// key lifecycle reads is moved with jest's Date only (sockets and timers stay real).
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import type { JWK } from 'jose';
import { parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { MOCK_PROVIDER, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';

export interface Instance {
  gateway: Gateway;
  /** its own listener, bypassing the balancer */
  origin: string;
  close(): Promise<void>;
}

export interface Cluster {
  issuer: string;
  dir: string;
  /** the configuration file every instance (and the CLI) reads */
  configFile: string;
  raw: Record<string, unknown>;
  instances: Instance[];
  /** requests for /jwks the balancer passed on */
  jwksFetches: number;
  /** send every request to this instance instead of taking turns */
  pin: number | undefined;
  start(extra?: Record<string, unknown>): Promise<Instance>;
  /** the JWKS each instance serves itself */
  jwksOfEach(): Promise<JWK[][]>;
  close(): Promise<void>;
}

export { setClock } from '../support/clock.ts';

async function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** `source`: where the key set lives (keys.source); `settings` other top-level settings. */
export async function startCluster(
  settings: Record<string, unknown> = {},
  source: 'dir' | 'store' = 'dir',
): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'vpm-keys-cluster-'));
  const instances: Instance[] = [];
  let next = 0;
  const cluster: Cluster = {
    issuer: '',
    dir,
    configFile: join(dir, 'gateway.yaml'),
    raw: {},
    instances,
    jwksFetches: 0,
    pin: undefined,
    async start(extra = {}) {
      const raw = { ...cluster.raw, ...extra };
      const config = parseConfig(stringify(raw), cluster.configFile, { factories: ADAPTER_FACTORIES, env: {} });
      const gateway = await createGateway(config, { audit: new MemoryAuditLog(), logger: memoryLogger() });
      const own = await listen(gateway.app);
      const instance: Instance = {
        gateway,
        origin: `http://127.0.0.1:${(own.address() as AddressInfo).port}`,
        async close() {
          instances.splice(instances.indexOf(instance), 1);
          await closeServer(own);
          await gateway.close();
        },
      };
      instances.push(instance);
      return instance;
    },
    async jwksOfEach() {
      return Promise.all(
        instances.map(async (i) => ((await (await fetch(`${i.origin}/jwks`)).json()) as { keys: JWK[] }).keys),
      );
    },
    async close() {
      for (const instance of [...instances].reverse()) await instance.close();
      await closeServer(balancer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const balancer = await listen((req, res) => {
    if (!instances.length) return void res.writeHead(503).end();
    if (req.url?.startsWith('/jwks')) cluster.jwksFetches += 1;
    const instance = instances[cluster.pin ?? next++ % instances.length]!;
    instance.gateway.app(req, res);
  });
  cluster.issuer = `http://127.0.0.1:${(balancer.address() as AddressInfo).port}`;
  cluster.raw = {
    issuer: cluster.issuer,
    log_level: 'debug',
    keys: { source, dir: join(dir, 'keys'), publish_delay: 120, reload_interval: 30 },
    store: {
      type: 'redis',
      url: process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix: `kt${randomBytes(4).toString('hex')}:`,
    },
    clients: [
      {
        client_id: 'rp',
        client_secret: RP_SECRET,
        redirect_uris: [RP_REDIRECT],
        post_logout_redirect_uris: ['https://rp.example.test/bye'],
      },
    ],
    providers: [MOCK_PROVIDER],
    ...settings,
  };
  writeFileSync(cluster.configFile, stringify(cluster.raw));
  return cluster;
}

// Two gateway instances sharing Redis and one registry directory, as a fleet runs: their configuration
// written as the file the `providers` commands read, and the audit log held by the test, as a running
// instance holds it (so a command leaves recording its change to an instance).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { auditConfigSchema, openAuditLog } from '../../src/audit/config.ts';
import { memoryLogger } from '../../src/logger.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { startGateway, type TestGateway, WatchedAuditLog } from '../support/gateway.ts';
import { REGISTRY_PROVIDERS } from './fixtures.ts';

export interface SharedInstances {
  a: TestGateway;
  b: TestGateway;
  /** the configuration file the commands read */
  configFile: string;
  /** closes both instances and the audit log, and deletes `storeKeys` (under the prefix) */
  close(storeKeys: string[]): Promise<void>;
}

export async function startSharedInstances(o: {
  /** where the configuration and the audit log go */
  dir: string;
  registry: string;
  /** the Redis key prefix of this test file */
  prefix: string;
  pollSeconds: number;
  clients?: Record<string, unknown>[];
  configName?: string;
}): Promise<SharedInstances> {
  const settings = {
    store: { type: 'redis', url: process.env.VPM_TEST_REDIS_URL!, prefix: o.prefix },
    registry: { dir: o.registry, poll_seconds: o.pollSeconds },
    audit: { dir: join(o.dir, 'audit'), signing_key: join(o.dir, 'audit-keys/checkpoint.jwk.json') },
  };
  const clients = o.clients ? { clients: o.clients } : {};
  const start = () =>
    startGateway({
      providers: REGISTRY_PROVIDERS,
      ...clients,
      settings,
      audit: new WatchedAuditLog(),
      logger: memoryLogger(),
    });
  const a = await start();
  const b = await start();
  const configFile = join(o.dir, o.configName ?? 'gateway.yaml');
  writeFileSync(configFile, stringify({ issuer: a.issuer, providers: REGISTRY_PROVIDERS, ...clients, ...settings }));
  const held = await openAuditLog(auditConfigSchema.parse(settings.audit), memoryLogger());
  return {
    a,
    b,
    configFile,
    async close(storeKeys) {
      await a.close();
      await b.close();
      await held.close();
      const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix: o.prefix });
      await store.delete(...storeKeys);
      await store.close();
    },
  };
}

// What one login leaves in Redis: every key under the gateway's prefix after complete logins through the
// test bank, with its MEMORY USAGE and TTL, grouped by the key's kind (its first two segments).
// Usage: node bench/keys.ts [logins=5]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateKeyMaterial } from '../providers/banklink/test-bank/material.ts';
import { BENCH_CLIENT } from './clients.ts';
import { BANK, gatewayConfig } from './gateway-config.ts';
import { oneLogin } from './load.ts';
import { freePort, startGateway, startNode, startRedis } from './processes.ts';

const logins = Number(process.argv[2] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'vpm-bench-keys-'));
const stops: (() => Promise<void>)[] = [];
try {
  const redis = await startRedis(dir);
  stops.push(() => redis.stop());
  const merchant = await loadOrCreateKeyMaterial(join(dir, 'gateway-banklink'), `${BANK.merchantId} gateway`);
  const bank = await startNode(
    'bank',
    new URL('./bank.ts', import.meta.url).pathname,
    [merchant.certificateFile, join(dir, 'bank'), BANK.bankId, BANK.merchantId],
    dir,
  );
  stops.push(() => bank.probed.stop());
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const prefix = 'keys:';
  mkdirSync(join(dir, 'gw'));
  const file = join(dir, 'gw', 'gateway.yaml');
  const config = gatewayConfig({
    issuer,
    port,
    dir: join(dir, 'gw'),
    store: { type: 'redis', url: redis.url, prefix },
    bankUrl: String(bank.ready.url),
    bankCertificate: String(bank.ready.certificate),
    merchantKey: merchant.keyFile,
  });
  writeFileSync(file, JSON.stringify(config));
  const gateway = await startGateway('gw', file, issuer, dir);
  stops.push(() => gateway.stop());
  const before = new Set(await redis.client.keys(`${prefix}*`));
  const target = {
    ...BENCH_CLIENT,
    issuer,
    upstream: 'bank' as const,
    provider: 'bench-bank',
    scope: 'openid profile personal_code',
  };
  for (let i = 0; i < logins; i += 1) await oneLogin(target);
  const kinds = new Map<string, { keys: number; bytes: number; ttl: Set<number> }>();
  for (const key of await redis.client.keys(`${prefix}*`)) {
    if (before.has(key)) continue;
    const bytes = Number(await redis.client.memory('USAGE', key, 'SAMPLES', 0));
    const ttl = await redis.client.ttl(key);
    const kind = key
      .slice(prefix.length)
      .split(':')
      .slice(0, key.startsWith(`${prefix}oidc:`) ? 2 : 1)
      .join(':');
    const k = kinds.get(kind) ?? { keys: 0, bytes: 0, ttl: new Set<number>() };
    k.keys += 1;
    k.bytes += bytes;
    k.ttl.add(Math.round(ttl / 10) * 10);
    kinds.set(kind, k);
  }
  let total = 0;
  console.log(`| key kind | keys/login | bytes/login | TTL s |\n|---|---|---|---|`);
  for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes)) {
    total += k.bytes;
    console.log(
      `| ${kind} | ${(k.keys / logins).toFixed(1)} | ${(k.bytes / logins).toFixed(0)} | ${[...k.ttl].join(', ')} |`,
    );
  }
  console.log(`| total | | ${(total / logins).toFixed(0)} | |`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

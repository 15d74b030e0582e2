// What one login leaves in Redis: every key under the gateway's prefix after complete logins through the
// test bank, with its MEMORY USAGE and TTL, grouped by the key's kind (its first two segments); and the
// commands one login sends, by command (INFO commandstats of the private Redis). With --monitor, the
// commands of one more login in the order Redis received them (keys shortened to their kind).
// Usage: node bench/keys.ts [logins=5] [--monitor]
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateKeyMaterial } from '../providers/banklink/test-bank/material.ts';
import { BENCH_CLIENT } from './clients.ts';
import { BANK, gatewayConfig } from './gateway-config.ts';
import { oneLogin } from './load.ts';
import { startGateway, startNode, startRedis } from './processes.ts';
import { freePort } from '../test/support/free-port.ts';
import { benchOptions } from './args.ts';

const { values, positionals } = benchOptions(
  { monitor: { type: 'boolean', default: false } },
  'usage: node bench/keys.ts [LOGINS=5] [--monitor]\n' +
    '  what LOGINS logins through the test bank leave in Redis, and the commands one login sends\n',
  true,
);
const logins = Number(positionals[0] ?? 5);
if (!Number.isInteger(logins) || logins < 1) {
  process.stderr.write('LOGINS must be a whole number of at least 1\n');
  process.exit(2);
}
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
  const target = {
    ...BENCH_CLIENT,
    issuer,
    upstream: 'bank' as const,
    provider: 'bench-bank',
    scope: 'openid profile personal_code',
  };
  await oneLogin(target); // warm: first-use reads (clients, keys) are not a login's cost
  const before = new Set(await redis.client.keys(`${prefix}*`));
  await redis.client.config('RESETSTAT');
  for (let i = 0; i < logins; i += 1) await oneLogin(target);
  const stats = String(await redis.client.info('commandstats'));
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
  // the INFO and CONFIG calls of this script are not the gateway's
  const calls = [...stats.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)]
    .filter(([, name]) => !name!.startsWith('config'))
    .map(([, name, n]) => [name!, Number(n) - (name === 'info' ? 1 : 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  console.log(`\n| command | calls/login |\n|---|---|`);
  for (const [name, n] of calls) console.log(`| ${name} | ${(n / logins).toFixed(1)} |`);
  console.log(`| total | ${(calls.reduce((sum, [, n]) => sum + n, 0) / logins).toFixed(1)} |`);
  if (values.monitor) {
    const monitor = await redis.client.monitor();
    const seen: string[] = [];
    // a key as its kind: the ids in it (long random segments) left out
    const kind = (arg: string) => arg.replace(prefix, '').replace(/[A-Za-z0-9_-]{16,}/g, '…');
    monitor.on('monitor', (_time: string, args: string[]) =>
      seen.push(args.map((a, i) => (i === 0 ? a : kind(a).length > 60 ? '<value>' : kind(a))).join(' ')),
    );
    await oneLogin(target);
    await new Promise((r) => setTimeout(r, 100));
    monitor.disconnect();
    console.log(`\none login, ${seen.length} commands:`);
    for (const line of seen) console.log(`  ${line}`);
  }
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}

// `npm run bench`: complete logins as a user sees them, the gateway side by side with its floor (bare
// node-oidc-provider 9 with a trivial brokered login, bench/floor.ts), each in its own process, the load
// generator (bench/load.ts) and the banklink test bank (bench/bank.ts) in theirs, Redis a private
// redis-server. Rounds alternate the floor and the gateways; each round warms up, then measures.
// What runs where: the mock eID is a `type: mock` provider, whose pages (and the ES256 signing of its
// answer) the gateway serves itself, so its cost is in the gateway's CPU; the test bank is a separate
// process and reported apart.
// Usage: node bench/run.ts --help (bench/run-options.ts).
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { loadOrCreateKeyMaterial } from '../providers/banklink/test-bank/material.ts';
import { BENCH_CLIENT } from './clients.ts';
import { gatewayConfig, BANK } from './gateway-config.ts';
import type { LoadResult, LoadTarget } from './load.ts';
import { probe, running, startGateway, startNode, startRedis, type Probed } from './processes.ts';
import { freePort } from '../test/support/free-port.ts';
import { percentile, report, summarise, type Round } from './report.ts';
import { benchArgs } from './run-options.ts';
import { roundCosts, stepMs } from './round-costs.ts';

const args = benchArgs();
const { rounds, seconds, warmup, userCounts, workers } = args;
if (args.steps) process.env.VPM_BENCH_STEPS = '1'; // read by bench/cpu-probe.ts in every process started

const dir = mkdtempSync(join(tmpdir(), 'vpm-bench-'));
const here = (file: string) => new URL(file, import.meta.url).pathname;
const stops: (() => Promise<void>)[] = [];
// interrupted: the processes started so far are stopped too, not left running
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const child of running) child.kill('SIGTERM');
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });

interface Target extends LoadTarget {
  name: string;
  server: Probed;
  bank?: Probed;
  redisPrefix?: string;
}

try {
  const redis = await startRedis(dir);
  stops.push(() => redis.stop());
  // the gateway's banklink key and certificate, and the bank's (its process creates them)
  const merchant = await loadOrCreateKeyMaterial(join(dir, 'gateway-banklink'), `${BANK.merchantId} gateway`);
  const bank = await startNode(
    'bank',
    here('./bank.ts'),
    [merchant.certificateFile, join(dir, 'bank'), BANK.bankId, BANK.merchantId],
    dir,
  );
  stops.push(() => bank.probed.stop());
  const floor = await startNode('floor', here('./floor.ts'), [], dir);
  stops.push(() => floor.probed.stop());

  const gateway = async (name: string, store: 'memory' | 'redis', processes?: number, checkout?: string) => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const prefix = `bench-${name}:`;
    mkdirSync(join(dir, name));
    const file = join(dir, name, 'gateway.yaml');
    const config = gatewayConfig({
      issuer,
      port,
      dir: join(dir, name),
      store: store === 'redis' ? { type: 'redis', url: redis.url, prefix } : { type: 'memory' },
      bankUrl: String(bank.ready.url),
      bankCertificate: String(bank.ready.certificate),
      merchantKey: merchant.keyFile,
    });
    writeFileSync(file, JSON.stringify(config, null, 2));
    const profile = args['cpu-prof']
      ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof'], '--cpu-prof-name', `${name}.cpuprofile`]
      : [];
    const options = checkout ? profile : [...profile, ...(args['node-options'] ?? '').split(' ').filter(Boolean)];
    const server = await startGateway(name, file, issuer, dir, processes, options, checkout);
    stops.push(() => server.stop());
    return { issuer, server, prefix: store === 'redis' ? prefix : undefined };
  };
  const client = {
    clientId: BENCH_CLIENT.clientId,
    clientSecret: BENCH_CLIENT.clientSecret,
    redirectUri: BENCH_CLIENT.redirectUri,
  };
  const gwMemory = await gateway('gw-memory', 'memory');
  // the goals are for one gateway process: `start` on a shared store would otherwise run one worker per core
  const gwRedis = await gateway('gw-redis', 'redis', 1);
  const targets: Target[] = [
    {
      name: 'floor',
      server: floor.probed,
      issuer: String(floor.ready.issuer),
      upstream: 'page',
      provider: 'upstream',
      scope: 'openid profile',
      ...client,
    },
    {
      name: 'gateway memory, mock eID',
      server: gwMemory.server,
      issuer: gwMemory.issuer,
      upstream: 'page',
      provider: 'bench-eid',
      scope: 'openid profile personal_code',
      ...client,
    },
    {
      name: 'gateway Redis, mock eID',
      server: gwRedis.server,
      issuer: gwRedis.issuer,
      upstream: 'page',
      provider: 'bench-eid',
      scope: 'openid profile personal_code',
      redisPrefix: gwRedis.prefix,
      ...client,
    },
    {
      name: 'gateway Redis, test bank',
      server: gwRedis.server,
      bank: bank.probed,
      issuer: gwRedis.issuer,
      upstream: 'bank',
      provider: 'bench-bank',
      scope: 'openid profile personal_code',
      redisPrefix: gwRedis.prefix,
      ...client,
    },
  ];
  if (args.baseline) {
    // a checkout from before `start --workers` (src/ops/cluster.ts) knows no such option and runs one process
    const oneProcess = existsSync(join(args.baseline, 'src/ops/cluster.ts')) ? 1 : undefined;
    const gwBase = await gateway('gw-baseline', 'redis', oneProcess, args.baseline);
    targets.push({
      ...targets[3]!,
      name: 'baseline gateway Redis, test bank',
      server: gwBase.server,
      issuer: gwBase.issuer,
      redisPrefix: gwBase.prefix,
    });
  }
  if (workers) {
    const gwWorkers = await gateway('gw-workers', 'redis', workers);
    targets.push({
      ...targets[3]!,
      name: `gateway Redis, test bank, --workers ${workers}`,
      server: gwWorkers.server,
      issuer: gwWorkers.issuer,
      redisPrefix: gwWorkers.prefix,
    });
  }
  const chosen = args.only ? targets.filter((t) => t.name === 'floor' || t.name.includes(args.only!)) : targets;

  const loader = fork(here('./load.ts'), [], {
    execArgv: ['--no-warnings=ExperimentalWarning'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  running.add(loader);
  loader.once('exit', () => running.delete(loader));
  stops.push(() => probe('load', loader).stop());
  await new Promise((resolve) => loader.once('message', resolve));
  const drive = (t: LoadTarget, users: number, s: number) =>
    new Promise<LoadResult>((resolve) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m?.bench !== 'loaded') return;
        loader.off('message', onMessage);
        resolve(m as unknown as LoadResult);
      };
      loader.on('message', onMessage);
      const { name: _n, server: _s, bank: _b, redisPrefix: _r, ...target } = t as Target;
      loader.send({ bench: 'load', target, users, seconds: s });
    });

  const results: Round[] = [];
  const steps = new Map<string, Record<string, number>>();
  for (const users of userCounts) {
    for (let round = 1; round <= rounds; round += 1) {
      for (const t of chosen) {
        const warm = await drive(t, users, warmup);
        if (warm.failures) console.error(`${t.name}: ${warm.failures} failed warm-up logins: ${warm.firstFailure}`);
        const procs: [string, Probed][] = [
          [t.server === floor.probed ? 'floor' : 'gateway', t.server],
          ...(t.bank ? [['bank', t.bank] as [string, Probed]] : []),
        ];
        const bytes0 = t.redisPrefix ? await redis.bytes(t.redisPrefix) : undefined;
        const stats0 = t.redisPrefix ? await redis.stats() : undefined;
        const cpu0 = await Promise.all(procs.map(([, p]) => p.cpu()));
        const r = await drive(t, users, seconds);
        const cpu1 = await Promise.all(procs.map(([, p]) => p.cpu()));
        const stats1 = t.redisPrefix ? await redis.stats() : undefined;
        const bytes1 = t.redisPrefix ? await redis.bytes(t.redisPrefix) : undefined;
        const { cpuMs, perLogin } = roundCosts(
          {
            names: procs.map(([name]) => name),
            cpu0,
            cpu1,
            loadCpuMicros: r.cpuMicros,
            stats0,
            stats1,
            bytes0,
            bytes1,
          },
          r.logins,
        );
        if (args.steps) {
          const byStep = steps.get(t.name) ?? {};
          for (const [step, ms] of Object.entries(stepMs(cpu0[0]!, cpu1[0]!, r.logins)))
            byStep[step] = (byStep[step] ?? 0) + ms / rounds / userCounts.length;
          steps.set(t.name, byStep);
        }
        const sorted = [...r.latenciesMs].sort((a, b) => a - b);
        const row: Round = {
          target: t.name,
          users,
          logins: r.logins,
          failures: r.failures,
          firstFailure: r.firstFailure,
          perSecond: r.logins / r.seconds,
          p50: percentile(sorted, 0.5),
          p99: percentile(sorted, 0.99),
          cpuMs,
          perLogin,
        };
        results.push(row);
        console.error(
          `round ${round} users ${users} ${t.name}: ${row.perSecond.toFixed(0)}/s p50 ${row.p50.toFixed(1)} p99 ${row.p99.toFixed(1)} cpu ${JSON.stringify(cpuMs, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))} ${JSON.stringify(perLogin, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}${r.failures ? ` FAILURES ${r.failures}: ${r.firstFailure}` : ''}`,
        );
      }
    }
  }
  const summaries = summarise(results, 'floor');
  const workersTarget = targets.find((t) => t.name.includes('--workers'))?.name;
  console.log(report({ summaries, steps, rounds, seconds, warmup, workersTarget }));
  writeFileSync(
    join(dir, 'results.json'),
    JSON.stringify({ results, summaries, steps: Object.fromEntries(steps) }, null, 2),
  );
  if (args.keep) console.log(`\nprocess logs and results.json: ${dir}`);
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}

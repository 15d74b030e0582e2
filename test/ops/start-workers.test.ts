// How many workers `start` runs and what each writes: one per core on a shared store, one on the
// in-memory store (said in the notice), more refused there; a worker's own audit log and witness; the
// restart backoff; and terminal logs made readable without losing the redaction.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { auditConfigSchema } from '../../src/audit/config.ts';
import { UsageError } from '../../src/cli/command.ts';
import { workerCount } from '../../src/cli/start.ts';
import { createLogger, stderrLines } from '../../src/logger.ts';
import { restartDelay } from '../../src/ops/cluster.ts';
import { workerAuditConfig } from '../../src/ops/worker-audit.ts';
import { MOCK_BANK } from '../support/provider-entries.ts';
import { instanceConfig } from './deployment.ts';
import { GatewayProcess, root } from './processes.ts';

const redis = {
  store: {
    type: 'redis' as const,
    url: 'redis://127.0.0.1:6379',
    prefix: 'x:',
    wait_timeout_ms: 500,
    command_timeout_ms: 2000,
    connect_timeout_ms: 2000,
  },
};
const memory = { store: { type: 'memory' as const } };

test('workers: one per core on Redis, one on the in-memory store (with a note), more refused there', () => {
  expect(workerCount(undefined, redis, 8)).toEqual({ workers: 8 });
  expect(workerCount(undefined, memory, 8)).toEqual({
    workers: 1,
    note: expect.stringContaining('the in-memory store lives in this process'),
  });
  expect(workerCount('3', redis, 8)).toEqual({ workers: 3 });
  expect(workerCount('1', memory, 8)).toEqual({ workers: 1 });
  expect(workerCount('2', memory, 8)).toEqual({
    refused: expect.stringContaining('store.type: memory cannot serve --workers 2'),
  });
  for (const bad of ['0', '-1', '1.5', 'two', '1000', '']) expect(() => workerCount(bad, redis, 8)).toThrow(UsageError);
});

test('start --workers 2 on the in-memory store exits 1 naming the config, never listening; the demo notes its single worker', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'vpm-workers-memory-'));
  try {
    const refused = new GatewayProcess(['start', '--config', join(root, 'config/demo.yaml'), '--workers', '2'], {
      cwd,
      env: { PORT: '0' },
    });
    expect(await refused.exit).toEqual({ code: 1, signal: null });
    expect(refused.output).toContain('store.type: memory cannot serve --workers 2');
    expect(refused.output).not.toMatch(/listening on port/);

    const demo = new GatewayProcess(['start', '--config', join(root, 'config/demo.yaml')], { cwd, env: { PORT: '0' } });
    await demo.printed(/Open the demo e-service/);
    expect(demo.output).toMatch(/listening on port \d+ \(127\.0\.0\.1\)\none worker: the in-memory store/);
    expect(await demo.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

test('start --workers 2 on a port in use exits 1 with the reason: no worker is left waiting', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'vpm-workers-port-'));
  const prefix = `vpmtest:wport:${randomBytes(6).toString('hex')}:`;
  const taken = net.createServer();
  await new Promise<void>((ok) => taken.listen(0, '127.0.0.1', ok));
  try {
    const config = instanceConfig(join(cwd, 'gateway.yaml'), {
      dir: cwd,
      issuer: 'http://127.0.0.1:3000',
      port: (taken.address() as net.AddressInfo).port,
      redisUrl: process.env.VPM_TEST_REDIS_URL!,
      prefix,
      bank: MOCK_BANK,
      audit: { dir: join(cwd, 'audit') },
    });
    const gateway = new GatewayProcess(['start', '--config', config, '--workers', '2'], { cwd });
    expect(await gateway.exit).toEqual({ code: 1, signal: null });
    expect(gateway.output).toMatch(/worker 1: port \d+ is already in use/);
    // the worker closed its audit log on the way out: no writer lock left behind
    expect(existsSync(join(cwd, 'audit/worker-1/writer.lock'))).toBe(false);
    expect(gateway.output).toContain('worker 1 stopped before it listened');
  } finally {
    taken.close();
    rmSync(cwd, { recursive: true, force: true });
    const redis = new Redis(process.env.VPM_TEST_REDIS_URL!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}, 60_000);

test("each worker's audit log: a subdirectory, a name, and a witness of its own", () => {
  const base = auditConfigSchema.parse({ dir: 'var/audit', name: 'gw-a' });
  expect(workerAuditConfig(base, 2)).toMatchObject({ dir: 'var/audit/worker-2', name: 'gw-a-worker-2' });
  expect(workerAuditConfig(auditConfigSchema.parse({}), 1)).toMatchObject({ name: 'worker-1' });
  const witnessed = auditConfigSchema.parse({ witness: { path: '/srv/witness/audit-witness.json' } });
  expect(workerAuditConfig(witnessed, 3).witness).toEqual({
    path: '/srv/witness/audit-witness.worker-3.json',
    store: true,
  });
});

test('a failing worker is restarted after a delay doubling from half a second up to 30 seconds', () => {
  expect([0, 1, 2, 3, 5, 6, 20].map(restartDelay)).toEqual([500, 1000, 2000, 4000, 16000, 30000, 30000]);
});

test('a terminal gets readable lines, redacted as the JSON is; anything else gets JSON', () => {
  for (const tty of [true, false]) {
    const out: string[] = [];
    createLogger(
      'info',
      stderrLines(tty, (text) => out.push(text)),
    ).info('login 010180-15097 done', {
      subject: 'PNOLV-010180-15097',
      worker: 2,
    });
    const text = out.join('');
    expect(text).not.toContain('010180-15097');
    expect(text).toContain('[redacted]');
    if (tty) {
      expect(text).toMatch(/INFO.*login \[redacted\] done/);
      expect(() => JSON.parse(text)).toThrow();
    } else expect(JSON.parse(text)).toMatchObject({ level: 'info', worker: 2 });
  }
});

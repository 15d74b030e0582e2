// Graceful shutdown and the audit log's last entries, as an operator's SIGTERM reaches `vpm-gateway start`
// (config/demo.yaml on a Redis of the test's own, a real child process): a token request in flight when the
// signal comes is answered, and the entry it leads to (tokens_issued_error, recorded from the engine's
// grant.error event after a store round trip) is written under the final signed checkpoint, so removing
// the log's last line is detected (src/audit/README.md). The store's answer to that round trip is held
// back (CLIENT PAUSE WRITE) until after the listener has drained: without waiting for the engine's
// records, the gateway would close its log before the entry came (and lose it, or leave it uncovered).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { RedisProcess, until } from '../store/redis-processes.ts';
import { freePort } from '../support/free-port.ts';
import { GatewayProcess, MAIN, NODE, root } from './processes.ts';

const SECRET = 'demo-service-secret-not-for-production';

interface LogFiles {
  dir: string;
  segment: string;
  entries: { i: number; type: string }[];
  checkpointed: number;
}

/** Each log `start` left: audit.dir, or with workers one per worker below it. */
function logsIn(auditDir: string): LogFiles[] {
  const dirs = existsSync(join(auditDir, CHECKPOINTS_FILE))
    ? [auditDir]
    : readdirSync(auditDir)
        .filter((d) => d.startsWith('worker-'))
        .map((d) => join(auditDir, d));
  return dirs.map((dir) => {
    const segments = readdirSync(dir)
      .filter((f) => f.startsWith('segment-'))
      .sort();
    const lines = (f: string) =>
      existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean) : [];
    const checkpoints = lines(CHECKPOINTS_FILE);
    return {
      dir,
      segment: join(dir, segments.at(-1) ?? ''),
      entries: segments.flatMap(lines).map((l) => JSON.parse(l).entry as { i: number; type: string }),
      checkpointed: checkpoints.length ? (JSON.parse(checkpoints.at(-1)!) as { size: number }).size : 0,
    };
  });
}

describe.each([1, 2])('start --workers %i on Redis', (workers) => {
  let redis: RedisProcess;
  let cwd: string;
  let config: string;
  let gateway: GatewayProcess;
  let port: number;

  beforeAll(async () => {
    const redisPort = await freePort();
    redis = await new RedisProcess(redisPort, [
      '--port',
      String(redisPort),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]).start();
    cwd = mkdtempSync(join(tmpdir(), 'vpm-shutdown-cp-'));
    // the demo's registry and logos are found beside its configuration
    cpSync(join(root, 'config'), join(cwd, 'config'), { recursive: true });
    config = join(cwd, 'config/redis.yaml');
    const demo = readFileSync(join(root, 'config/demo.yaml'), 'utf8');
    const onRedis = demo.replace('  type: memory', `  type: redis\n  url: redis://127.0.0.1:${redisPort}`);
    writeFileSync(config, `${onRedis}audit:\n  checkpoint_interval_ms: 1000\n`);
    port = await freePort();
    gateway = new GatewayProcess(['start', '--config', config, '--workers', String(workers)], {
      cwd,
      env: { PORT: String(port), ISSUER: `http://127.0.0.1:${port}` },
    });
    await gateway.printed(/Open the demo e-service/);
    // a gateway that has run a while: what it recorded at start is under a checkpoint (audit.checkpoint_interval_ms)
    await until(async () => {
      const logs = existsSync(join(cwd, 'var/audit')) ? logsIn(join(cwd, 'var/audit')) : [];
      return (
        logs.length === workers && logs.every((log) => log.entries.length && log.checkpointed === log.entries.length)
      );
    }, 'the entries of the start under a checkpoint');
  }, 60_000);

  afterAll(async () => {
    await gateway.stop('SIGKILL');
    await redis.kill();
    rmSync(cwd, { recursive: true, force: true });
  });

  test('a failed token request in flight at SIGTERM is recorded under the final signed checkpoint', async () => {
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code: 'made-up-code',
      redirect_uri: `http://127.0.0.1:${port}/demo/callback`,
      code_verifier: 'v'.repeat(43),
    }).toString();
    const basic = Buffer.from(`demo-service:${SECRET}`).toString('base64');
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((ok) => socket.once('connect', ok));
    let answer = '';
    socket.on('data', (d) => {
      answer += d;
    });
    const closed = new Promise((ok) => socket.once('close', ok));
    // the server answers "100 Continue" once it has read the headers: a request in flight from then on
    const continued = new Promise<void>((ok) => {
      const look = () => {
        if (!answer.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) return;
        socket.off('data', look);
        ok();
      };
      socket.on('data', look);
    });
    socket.write(
      `POST /token HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Basic ${basic}\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\n' +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
    );
    await continued;
    // every instance has begun to drain its listeners before the rest of the body comes
    const from = gateway.output.length;
    gateway.child.kill('SIGTERM');
    for (let seen = 0, at = from; seen < workers; seen += 1) {
      const found = await gateway.printed(/"timeout_ms":\d+,"msg":"shutting down"/, at);
      at += found.index + found[0].length;
    }
    socket.write(body.slice(10));
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 400 .*invalid_grant/s);
    expect(await gateway.exit).toEqual({ code: 0, signal: null });

    const logs = logsIn(join(cwd, 'var/audit'));
    expect(logs).toHaveLength(workers);
    for (const log of logs) expect(log.checkpointed).toBe(log.entries.length);
    const withEntry = logs.filter((log) => log.entries.some((e) => e.type === 'tokens_issued_error'));
    expect(withEntry).toHaveLength(1);
    const log = withEntry[0]!;
    expect(log.entries.at(-1)!.type).toBe('tokens_issued_error');

    const verify = () => spawnSync(NODE, [MAIN, 'audit', 'verify', '--config', config], { cwd, encoding: 'utf8' });
    const whole = verify();
    expect(whole.stdout).toMatch(/^OK/m);
    expect(whole.status).toBe(0);
    // the last line removed: the final checkpoint covers it, so verification fails
    const text = readFileSync(log.segment, 'utf8');
    writeFileSync(log.segment, text.slice(0, text.lastIndexOf('\n', text.length - 2) + 1));
    const cut = verify();
    expect(cut.stdout + cut.stderr).toMatch(/FAILED/);
    expect(cut.status).toBe(1);
  }, 60_000);
});

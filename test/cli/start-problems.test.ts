// `vpm-gateway start` when it cannot start: a port already taken (the main one, the mutual-TLS listener's,
// the metrics listener's), a logo file that cannot be read. One line says what and where, exit 1: no stack
// trace, no process left running, the audit log's writer lock released.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, NODE, root } from '../e2e/demo-suite.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { createCa, serverCert } from '../tls/pki-fixture.ts';

test('a port already in use is one clear line and exit 1', async () => {
  const busy = net.createServer();
  await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
  const port = (busy.address() as net.AddressInfo).port;
  const cwd = mkdtempSync(join(tmpdir(), 'vpm-port-'));
  try {
    const child = spawn(NODE, [CLI, 'start', '--config', join(root, 'config/demo.yaml')], {
      cwd,
      env: { ...process.env, PORT: String(port), ISSUER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((ok) => child.once('exit', ok));
    expect(code).toBe(1);
    expect(stdout).not.toContain('Open the demo e-service');
    // the operator log (JSON lines) aside, exactly one plain line says what happened and what to do
    const plain = stderr.split('\n').filter((line) => line && !line.startsWith('{'));
    expect(plain).toEqual([
      `vpm-gateway: port ${port} on 127.0.0.1 is already in use: stop what uses it, or set another port with the PORT variable (PORT=${port + 1} vpm-gateway start --config ${join(root, 'config/demo.yaml')})`,
    ]);
    expect(stderr).not.toMatch(/\n\s+at /);
  } finally {
    busy.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

/** `vpm-gateway start --config config ...args` run from `cwd` (on a port of its choosing) until it exits: its
 * exit code, its stderr and the lines of it that are not the operator log's JSON. */
async function startIn(cwd: string, config: string, ...args: string[]) {
  const child = spawn(NODE, [CLI, 'start', '--config', config, ...args], {
    cwd,
    env: { ...process.env, PORT: '0', ISSUER: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  return { code, stderr, plain: stderr.split('\n').filter((line) => line && !line.startsWith('{')) };
}

test('a provider logo that cannot be read stops the start, naming its configuration path', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'vpm-logo-'));
  try {
    const config = join(cwd, 'demo.yaml');
    writeFileSync(
      config,
      readFileSync(join(root, 'config/demo.yaml'), 'utf8')
        .replaceAll('logo: logos/', `logo: ${join(root, 'config/logos')}/`)
        .replace('dir: registry', `dir: ${join(root, 'config/registry')}`)
        .replace(`logo: ${join(root, 'config/logos')}/demo-bank.svg`, 'logo: no/such.svg'),
    );
    const { code, plain } = await startIn(cwd, config);
    expect(code).toBe(1);
    expect(plain).toEqual([`vpm-gateway: providers[1].logo: cannot read ${join(cwd, 'no/such.svg')}: ENOENT`]);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

/** The demo's configuration, runnable from `cwd`, with `extra` appended (top-level YAML; a `store` in it
 * replaces the demo's). */
function demoConfig(cwd: string, extra: string): string {
  const config = join(cwd, 'demo.yaml');
  const demo = readFileSync(join(root, 'config/demo.yaml'), 'utf8');
  writeFileSync(
    config,
    `${(extra.includes('store:') ? demo.replace('store:\n  type: memory\n', '') : demo)
      .replaceAll('logo: logos/', `logo: ${join(root, 'config/logos')}/`)
      .replace('dir: registry', `dir: ${join(root, 'config/registry')}`)}\n${extra}`,
  );
  return config;
}

describe('a second listener whose port is in use stops the start as the main one does', () => {
  let busy: net.Server;
  let port: number;
  beforeAll(async () => {
    busy = net.createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    port = (busy.address() as net.AddressInfo).port;
  });
  const prefix = `busy-port-test:${randomBytes(6).toString('hex')}:`;
  afterAll(async () => {
    await new Promise<void>((ok) => busy.close(() => ok()));
    const store = new RedisStore({ url: process.env.VPM_TEST_REDIS_URL!, prefix });
    const keys = await store.client.keys(`${prefix}*`);
    if (keys.length) await store.client.del(...keys);
    await store.close();
  });

  const redis = `store: { type: redis, url: "${process.env.VPM_TEST_REDIS_URL}", prefix: "${prefix}" }`;
  test.each([
    ['metrics.port', 1, () => `metrics: { port: PORT, host: 127.0.0.1 }`],
    ['metrics.port', 2, () => `metrics: { port: PORT, host: 127.0.0.1 }\n${redis}`],
    [
      'server.mtls.port',
      1,
      async (cwd: string) => {
        const ca = await createCa({ commonName: 'busy port test CA' });
        const leaf = await serverCert(ca);
        writeFileSync(join(cwd, 'server.pem'), leaf.cert);
        writeFileSync(join(cwd, 'server.key'), leaf.key, { mode: 0o600 });
        return `server: { tls: { cert: ${join(cwd, 'server.pem')}, key: ${join(cwd, 'server.key')} }, mtls: { port: PORT } }`;
      },
    ],
  ])(
    '%s, --workers %d: one line naming it, exit 1, nothing left listening',
    async (setting, workers, extra) => {
      const cwd = mkdtempSync(join(tmpdir(), 'vpm-busy-'));
      try {
        const config = demoConfig(cwd, (await extra(cwd)).replace('PORT', String(port)));
        const { code, plain, stderr } = await startIn(cwd, config, '--workers', String(workers));
        expect(code).toBe(1);
        expect(plain).toEqual([
          expect.stringMatching(
            new RegExp(
              `^vpm-gateway: (worker \\d+: )?port ${port}( on 127\\.0\\.0\\.1)? is already in use: stop what uses it, or set another ${setting.replaceAll('.', '\\.')}$`,
            ),
          ),
        ]);
        expect(stderr).not.toMatch(/\n\s+at /);
        // the audit log was closed (checkpointed, its writer lock released) before the process ended
        expect(existsSync(join(cwd, 'var/audit/writer.lock'))).toBe(false);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

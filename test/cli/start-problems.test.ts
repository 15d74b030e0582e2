// `vpm-gateway start` when it cannot start: a port already taken, a logo file that cannot be read. One
// line says what and where, exit 1: no stack trace, no process left running.
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, NODE, root } from '../e2e/demo-suite.ts';

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
      `vpm-gateway: port ${port} on 127.0.0.1 is already in use: stop what uses it, or set another port with the PORT variable (PORT=${port + 1} npm start)`,
    ]);
    expect(stderr).not.toMatch(/\n\s+at /);
  } finally {
    busy.close();
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

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
    const child = spawn(NODE, [CLI, 'start', '--config', config], {
      cwd,
      env: { ...process.env, PORT: '0', ISSUER: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    expect(await new Promise<number | null>((ok) => child.once('exit', ok))).toBe(1);
    expect(stderr.split('\n').filter((line) => line && !line.startsWith('{'))).toEqual([
      `vpm-gateway: providers[1].logo: cannot read ${join(cwd, 'no/such.svg')}: ENOENT`,
    ]);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

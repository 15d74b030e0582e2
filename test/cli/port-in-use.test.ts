// The newcomer's path when the port is taken: `vpm-gateway start` says so in one line naming the port
// and the PORT variable, and exits 1 (no stack trace, no process left running).
import net from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

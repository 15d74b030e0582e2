// Tests talk to a real Redis. Use the one named by VPM_TEST_REDIS_URL or on 127.0.0.1:6379;
// when none answers, start a private redis-server on a free port for this run.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort } from './free-port.ts';

function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    let buffer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (buffer.includes('\r\n')) done(buffer.startsWith('+PONG'));
    });
  });
}

export default async function globalSetup(): Promise<void> {
  if (process.env.VPM_TEST_REDIS_URL) return;
  if (await ping(6379)) {
    process.env.VPM_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
    return;
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  child.on('error', (err) => {
    console.error(`cannot start redis-server: ${err.message}`);
  });
  for (let i = 0; i < 50; i += 1) {
    if (await ping(port)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await ping(port)))
    throw new Error('no Redis answers and redis-server could not be started (install the redis-server package)');
  process.env.VPM_TEST_REDIS_URL = `redis://127.0.0.1:${port}`;
  (globalThis as { __vpmRedis?: unknown }).__vpmRedis = child;
}

// The demo opened from another machine (README, server.host): VPM_HOST opens the listener beyond loopback,
// and ISSUER names the address the other machine uses, since every redirect and the login's way back go
// to the issuer. 127.0.0.2 stands for this machine's address as the other one reaches it: on Linux it is
// loopback too, but a listener bound to 127.0.0.1 (the demo's default) does not answer on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, root } from '../ops/processes.ts';
import { mockProviderLogin } from '../support/agency-client.ts';
import { Browser } from '../support/browser.ts';
import { freePort } from '../support/free-port.ts';

const DEMO = ['start', '--config', join(root, 'config/demo.yaml')];
let cwd: string;

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'vpm-other-machine-'));
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** The demo started with `env`, stopped once `use` is done. */
async function withDemo(env: NodeJS.ProcessEnv, use: (port: number) => Promise<void>): Promise<void> {
  const gateway = new GatewayProcess(DEMO, { cwd, env });
  try {
    await gateway.printed(/Open the demo e-service: /);
    await use(await gateway.port());
  } finally {
    await gateway.stop();
  }
}

test('without VPM_HOST the demo answers on loopback only', async () => {
  const port = await freePort();
  await withDemo({ PORT: String(port), ISSUER: `http://127.0.0.2:${port}` }, async () => {
    await expect(fetch(`http://127.0.0.2:${port}/healthz`)).rejects.toThrow();
  });
}, 60_000);

test('VPM_HOST alone opens the listener, but the demo still sends the browser to the issuer, localhost', async () => {
  const port = await freePort();
  await withDemo({ PORT: String(port), ISSUER: '', VPM_HOST: '0.0.0.0' }, async () => {
    const login = await fetch(`http://127.0.0.2:${port}/demo/login`, { redirect: 'manual' });
    expect(login.headers.get('location')).toBe(`http://localhost:${port}/demo/login`);
  });
}, 60_000);

test('VPM_HOST with ISSUER naming the address the other machine uses: a whole demo login there', async () => {
  const port = await freePort();
  const base = `http://127.0.0.2:${port}`;
  await withDemo({ PORT: String(port), ISSUER: base, VPM_HOST: '0.0.0.0' }, async () => {
    const b = new Browser();
    const selection = await b.follow(await b.get(`${base}/demo/login?lang=en`));
    expect(selection.url.startsWith(`${base}/interaction/`)).toBe(true);
    const chosen = await b.post(`${selection.url}/provider`, { provider: 'demo-eid' });
    const page = await b.follow(await mockProviderLogin(b, chosen, 0));
    expect(page.url.startsWith(`${base}/demo/callback`)).toBe(true);
    expect(page.body).toContain('Welcome, Jānis Bērziņš');
  });
}, 60_000);

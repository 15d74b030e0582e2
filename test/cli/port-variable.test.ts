// PORT as a shell or an env file may leave it: set but empty is unset (the gateway listens on the file's
// port, where its issuer and demo link are), and a value that is no port number stops `start` with one
// line naming PORT, exit 2, before anything listens. A port in use is advice to run the same command again
// with another PORT, its configuration kept.
import net from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, root } from '../ops/processes.ts';
import { freePort } from '../support/free-port.ts';

let cwd: string;
let config: string;
let port: number;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'vpm-port-var-'));
  port = await freePort();
  // the demo as it is, on a port of its own (the file's port and its loopback issuer's)
  config = join(cwd, 'demo.yaml');
  writeFileSync(
    config,
    readFileSync(join(root, 'config/demo.yaml'), 'utf8')
      .replace('issuer: http://localhost:3000', `issuer: http://localhost:${port}`)
      .replace('port: 3000', `port: ${port}`)
      .replaceAll('logo: logos/', `logo: ${join(root, 'config/logos')}/`)
      .replace('dir: registry', `dir: ${join(root, 'config/registry')}`),
  );
});

afterAll(() => rmSync(cwd, { recursive: true, force: true }));

test('PORT set but empty is unset: the gateway listens on the port its issuer and demo link name', async () => {
  const gateway = new GatewayProcess(['start', '--config', config], { cwd, env: { PORT: '', ISSUER: '' } });
  try {
    expect(await gateway.port()).toBe(port);
    await gateway.printed(/Open the demo e-service: /);
    expect(gateway.output).toContain(`Open the demo e-service: http://localhost:${port}/\n`);
    const health = await fetch(`http://localhost:${port}/healthz`);
    expect(health.status).toBe(200);
  } finally {
    await gateway.stop();
  }
}, 60_000);

test.each([' 3923', '3923 ', 'eighty', '70000'])(
  'PORT=%j stops start with one line naming PORT, exit 2',
  async (value) => {
    const gateway = new GatewayProcess(['start', '--config', config], { cwd, env: { PORT: value, ISSUER: '' } });
    // a gateway that listens after all is stopped, not waited for
    const listening = gateway.printed(/listening on port/).then(
      () => 'listening',
      () => 'ended',
    );
    const first = await Promise.race([gateway.exit.then(({ code }) => code), listening]);
    await gateway.stop();
    expect(first).toBe(2);
    expect(gateway.output).toBe(
      `vpm-gateway start: PORT: must be a port number from 1 to 65535 (or 0: any free port), got ${JSON.stringify(value)}\n`,
    );
  },
  60_000,
);

test('a port in use: the advice is the npm script as it was run, with PORT and what followed --', async () => {
  const busy = net.createServer();
  await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
  const taken = (busy.address() as net.AddressInfo).port;
  try {
    // what `npm start -- --config FILE` runs: the script's words, then the ones after --
    const npm = { npm_lifecycle_event: 'start', npm_lifecycle_script: 'node src/cli/main.ts start' };
    const gateway = new GatewayProcess(['start', '--config', config], {
      cwd,
      env: { ...npm, PORT: String(taken), ISSUER: '' },
    });
    expect((await gateway.exit).code).toBe(1);
    expect(gateway.output).toContain(
      `or set another port with the PORT variable (PORT=${taken + 1} npm start -- --config ${config})\n`,
    );
  } finally {
    busy.close();
  }
}, 60_000);

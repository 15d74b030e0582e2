// A refusal made while `providers test-login` waits for the operator stays: the test login's report is
// stored beside it, on the record as the file holds it when the login ends, not over it.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.ts';
import { Browser } from '../support/browser.ts';
import { runCli } from '../support/cli.ts';
import { mockProviderLogin, startGateway, type TestGateway } from '../support/gateway.ts';
import { record, REGISTRY_PROVIDERS, TEST_CLIENT, writeRegistry } from './fixtures.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let dir: string;
let registry: string;
let config: string;
let gw: TestGateway;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-joining-race-'));
  registry = writeRegistry(join(dir, 'registry'), [
    record('mock-eid', 'production'),
    record('mock-bank', 'testing', { test_login: undefined }),
  ]);
  const redirect = `http://127.0.0.1:${await freePort()}/test-login`;
  const clients = [{ ...TEST_CLIENT, redirect_uris: [...TEST_CLIENT.redirect_uris, redirect] }];
  const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
  const settings = { registry: { dir: registry, poll_seconds: 1 }, audit };
  gw = await startGateway({ providers: REGISTRY_PROVIDERS, clients, settings });
  config = join(dir, 'gateway.yaml');
  writeFileSync(config, stringify({ issuer: gw.issuer, providers: REGISTRY_PROVIDERS, clients, ...settings }));
});
afterAll(async () => {
  await gw.close();
  rmSync(dir, { recursive: true, force: true });
});

const stored = () => parse(readFileSync(join(registry, 'mock-bank.yaml'), 'utf8'));

test('a refusal made while the operator logs in is kept; the report is stored beside it and exit is 1', async () => {
  const out = { stdout: '', stderr: '' };
  let printed: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    printed = resolve;
  });
  const io = {
    stdout: (s: string) => {
      out.stdout += s;
    },
    stderr: (s: string) => {
      out.stderr += s;
      const found = /^(http\S+\/auth\?\S+)$/m.exec(out.stderr);
      if (found) printed(found[1]!);
    },
  };
  const running = main(['providers', 'test-login', 'mock-bank', '-c', config, '--json'], io);
  const browser = new Browser();
  const atBank = await browser.follow(
    await browser.get(await url),
    (h) => !!h.location?.includes('/providers/mock-bank/'),
  );
  // while the operator is at the bank, a colleague refuses the provider and the gateway applies it
  const applied = once(gw.gateway.registry!, 'applied');
  const refusal = await runCli([
    'providers',
    'transition',
    'mock-bank',
    'refused',
    '-c',
    config,
    '--reason',
    'licence withdrawn by Latvijas Banka',
    '--refusal-reason',
    'not_licensed',
  ]);
  expect(refusal.code).toBe(0);
  const refusedRevision = stored().revision;
  await applied;
  // the refused provider's answer ends in an error page; its way back completes the login as refused
  const end = await browser.follow(
    await mockProviderLogin(browser, atBank, 0),
    (h) => h.url.includes('/test-login') || h.status === 200,
  );
  if (!end.url.includes('/test-login')) {
    const back = /href="(\/interaction\/[^"]+\/complete)"/.exec(end.body)![1]!;
    await browser.follow(await browser.get(new URL(back, end.url).toString()), (h) => h.url.includes('/test-login'));
  }
  const code = await running;
  const after = stored();
  expect(after.history.at(-1)).toMatchObject({ stage: 'refused', refusal_reasons: ['not_licensed'] });
  expect(after.revision).toBe(refusedRevision + 1);
  expect(after.test_login.at).toBe(JSON.parse(out.stdout).at);
  expect(code).toBe(1);
  expect(out.stderr).toContain('mock-bank: moved to refused while the test login ran');
  const list = await runCli(['providers', 'list', '-c', config, '--json']);
  expect(JSON.parse(list.stdout).providers).toContainEqual(
    expect.objectContaining({ id: 'mock-bank', stage: 'refused', offered_to: 'none' }),
  );
});

// What the `providers test-login` tests share: a gateway with a registry (the mock bank at testing, no
// test login yet) and an audit log on disk, its configuration written for the commands, the test service
// registered with the loopback redirect URI the command listens on; and the command run with an operator
// who gets the URL it prints.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { main } from '../../src/cli/main.ts';
import { freePort } from '../support/free-port.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { record, REGISTRY_PROVIDERS, TEST_CLIENT, writeRegistry } from './fixtures.ts';

export interface TestLoginGateway {
  dir: string;
  registry: string;
  /** the configuration file the commands read */
  config: string;
  gw: TestGateway;
  /** the mock bank's record as its file holds it now */
  stored(): ReturnType<typeof parse>;
  close(): Promise<void>;
}

export async function startTestLoginGateway(name: string, registrySettings = {}): Promise<TestLoginGateway> {
  const dir = mkdtempSync(join(tmpdir(), `vpm-joining-${name}-`));
  const registry = writeRegistry(join(dir, 'registry'), [
    record('mock-eid', 'production'),
    record('mock-bank', 'testing', { test_login: undefined }),
  ]);
  const redirect = `http://127.0.0.1:${await freePort()}/test-login`;
  const clients = [{ ...TEST_CLIENT, redirect_uris: [...TEST_CLIENT.redirect_uris, redirect] }];
  const audit = { dir: join(dir, 'audit'), signing_key: join(dir, 'keys/checkpoint.pem') };
  const settings = { registry: { dir: registry, ...registrySettings }, audit };
  const gw = await startGateway({ providers: REGISTRY_PROVIDERS, clients, settings });
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, stringify({ issuer: gw.issuer, providers: REGISTRY_PROVIDERS, clients, ...settings }));
  return {
    dir,
    registry,
    config,
    gw,
    stored: () => parse(readFileSync(join(registry, 'mock-bank.yaml'), 'utf8')),
    async close() {
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `providers test-login mock-bank --json`; `operator` gets the printed URL and logs in (or not). */
export async function runTestLogin(
  config: string,
  operator: (url: string) => Promise<void>,
): Promise<{ code: number; stdout: string; stderr: string }> {
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
  await operator(await url);
  return { code: await running, ...out };
}

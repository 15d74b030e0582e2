// The worked multi-instance example (examples/deploy) and the image hold together: the gateway accepts
// the example's configuration with the secrets its env file names; every gateway service of the compose
// file is in nginx's round robin and Prometheus' targets, runs read-only with its own var volume and the
// shared keys volume; the image runs as non-root with the paths the gateway writes declared as a volume.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { gatewaySchema } from '../../src/config/schema.ts';
import { runCli } from '../support/cli.ts';
import { root } from './processes.ts';

const dir = join(root, 'examples/deploy');
const read = (file: string) => readFileSync(join(dir, file), 'utf8');
const env = Object.fromEntries(
  read('example.env')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

test('config check accepts the example configuration with the secrets of example.env', async () => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const result = await runCli(['config', 'check', join(dir, 'gateway.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  } finally {
    for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
  }
});

test('every gateway service is balanced and scraped, read-only, with its own var volume and the shared keys', () => {
  const compose = parse(read('compose.yaml'), { merge: true }) as {
    services: Record<string, { read_only?: boolean; volumes?: string[]; command?: string[] }>;
  };
  const gateways = Object.keys(compose.services).filter((name) => name.startsWith('gateway-'));
  expect(gateways).toHaveLength(3);
  const upstreams = [...read('nginx.conf').matchAll(/^\s*server (gateway-\d+):3000/gm)].map((m) => m[1]);
  expect(upstreams).toEqual(gateways);
  const targets = (parse(read('prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] })
    .scrape_configs[0]!.static_configs[0]!.targets;
  expect(targets).toEqual(gateways.map((name) => `${name}:9464`));
  const varVolumes = new Set<string>();
  for (const name of gateways) {
    const service = compose.services[name]!;
    expect(service.read_only).toBe(true);
    expect(service.command).toEqual(['start', '--workers', '2']);
    expect(service.volumes).toContain('keys:/app/var/keys');
    const own = service.volumes!.find((v) => v.endsWith(':/app/var'))!;
    varVolumes.add(own);
  }
  expect(varVolumes.size).toBe(3);
});

test('the image runs as node with every path the gateway writes under its /app/var volume', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^USER node$/m);
  expect(dockerfile).toMatch(/^VOLUME \["\/app\/var"\]$/m);
  expect(dockerfile).toContain('--read-only');
  // what a configuration that names no path writes: all below var/ (WORKDIR /app)
  const defaults = gatewaySchema.parse({ issuer: 'https://login.example.lv' });
  for (const path of [defaults.keys.dir, defaults.audit.dir, defaults.audit.signing_key])
    expect(path).toMatch(/^var\//);
});

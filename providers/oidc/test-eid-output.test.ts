// `npm run test-eid -- URL` (test-op/main.ts) prints what a configuration needs to offer the test eID: the
// provider entry, and its joining record for a configuration with a registry (the demo's) or the inline
// block for one without. Each form passes `config check` as printed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { runCli } from '../../test/support/cli.ts';

const root = resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let printed = '';
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-test-eid-'));
  child = spawn(process.execPath, ['providers/oidc/test-op/main.ts', 'http://127.0.0.1:3000', 'test-eid', dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, failed) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
      if (printed.includes("# 2'.") && printed.trimEnd().endsWith('two_factor: true')) ready();
    });
    child.once('exit', (code) => failed(new Error(`test-eid exited ${code}: ${printed}`)));
  });
}, 60_000);

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** The commented YAML after `heading` up to the next heading, uncommented. */
const commented = (heading: string) =>
  printed
    .split(heading)[1]!
    .split(/\n# \d/)[0]!
    .split('\n')
    .slice(1)
    .map((line) => line.replace(/^# {3}/, ''))
    .join('\n');

const configWith = (name: string, extra: Record<string, unknown>) => {
  const file = join(dir, name);
  writeFileSync(file, stringify({ issuer: 'http://127.0.0.1:3000', audit: { dir: join(dir, 'audit') }, ...extra }));
  return file;
};

test('the entry with its joining record passes config check with a registry', async () => {
  const [entry] = parse(printed.split('# 2. with')[0]!) as Record<string, unknown>[];
  expect(entry).not.toHaveProperty('onboarding');
  const registry = join(dir, 'registry');
  mkdirSync(registry);
  writeFileSync(join(registry, 'test-eid.yaml'), commented('<registry dir>/test-eid.yaml'));
  const file = configWith('with-registry.yaml', { providers: [entry], registry: { dir: registry } });
  expect(await runCli(['config', 'check', file])).toMatchObject({ code: 0, stderr: '' });
});

test('the entry with the inline block passes config check without a registry', async () => {
  const [entry] = parse(printed.split('# 2. with')[0]!) as Record<string, unknown>[];
  const inline = parse(commented('without a registry: in the entry instead')) as Record<string, unknown>;
  const file = configWith('inline.yaml', { providers: [{ ...entry, ...inline }] });
  expect(await runCli(['config', 'check', file])).toMatchObject({ code: 0, stderr: '' });
});

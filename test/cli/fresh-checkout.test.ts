// The README's operator commands on a fresh checkout, before the first `npm start` has generated the
// demo's key material under var/dev: `config check` counts that material as planned, and so must every
// command that reads the configuration without starting a gateway (`keys`, `providers`), or a newcomer's
// first `keys init` fails on files only `start` writes.
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { cpSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.ts';

const repo = new URL('../../', import.meta.url).pathname;
const home = process.cwd();

async function run(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const code = await main(argv, {
    stdout: (s: string) => {
      out.stdout += s;
    },
    stderr: (s: string) => {
      out.stderr += s;
    },
  });
  return { code, ...out };
}

beforeEach(() => {
  // a checkout's config/ alone: no var/ yet
  const dir = mkdtempSync(join(tmpdir(), 'vpm-fresh-'));
  cpSync(join(repo, 'config'), join(dir, 'config'), { recursive: true });
  process.chdir(dir);
});

afterEach(() => {
  process.chdir(home);
});

test('keys status, keys init and providers list read the demo configuration before any start', async () => {
  const before = await run('keys', 'status');
  expect(before.stderr).not.toContain('configuration is invalid');
  expect(before).toMatchObject({ code: 1 });
  expect(before.stderr).toContain('no key set in var/keys; create it with "vpm-gateway keys init');

  expect(await run('keys', 'init')).toMatchObject({ code: 0 });
  const status = await run('keys', 'status');
  expect(status).toMatchObject({ code: 0, stderr: '' });
  expect(status.stdout).toMatch(/^key set var\/keys/);

  const providers = await run('providers', 'list');
  expect(providers).toMatchObject({ code: 0, stderr: '' });
  expect(providers.stdout).toContain('demo-bank');
  // reading the configuration wrote none of the material only `start` generates
  expect(existsSync('var/dev')).toBe(false);
});

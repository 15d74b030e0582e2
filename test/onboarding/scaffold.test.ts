// A scaffolded adapter kind, written outside the repository, is formatted as the gateway's biome wants
// and passes the adapter conformance suite untouched: its own generated test file is loaded here and
// registers the suite, and the documented jest command runs it from the gateway's directory.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../support/cli.ts';

const outside = join(mkdtempSync(join(tmpdir(), 'vpm-scaffold-')), 'app-confirm');
const written = await runCli(['providers', 'scaffold', '--kind', 'custom', 'app-confirm', '--dir', outside, '--json']);
if (written.code !== 0) throw new Error(`scaffold failed: ${written.stderr}`);
afterAll(() => rmSync(dirname(outside), { recursive: true, force: true }));

test('the folder holds schema and factory, adapter, protocol, test peer and test', () => {
  expect(JSON.parse(written.stdout).files.sort()).toEqual([
    'adapter.ts',
    'app-confirm.test.ts',
    'index.ts',
    'package.json',
    'protocol.ts',
    'test-peer.ts',
  ]);
});

test("the files are as the gateway's formatter writes them", () => {
  const biome = join(process.cwd(), 'node_modules/.bin/biome');
  const config = join(process.cwd(), 'biome.json');
  const run = spawnSync(biome, ['format', '--config-path', config, '--vcs-enabled=false', outside], {
    cwd: dirname(outside),
    encoding: 'utf8',
  });
  expect(`${run.stdout}${run.stderr}`).toContain('Checked 6 files');
  expect(run.status).toBe(0);
});

test("the documented command runs the folder's conformance test with the gateway's jest", () => {
  const jest = ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', 'node_modules/jest/bin/jest.js'];
  const run = spawnSync(process.execPath, [...jest, '--roots', outside, '--testMatch', '**/*.test.ts'], {
    cwd: process.cwd(),
    encoding: 'utf8',
  });
  expect(run.stderr).toContain('app-confirm.test.ts');
  expect(run.stderr).toMatch(/Tests: +7 passed, 7 total/);
  expect(run.status).toBe(0);
});

test('scaffold refuses an unknown kind, a bad name and a folder in use', async () => {
  expect((await runCli(['providers', 'scaffold', '--kind', 'ldap', 'x'])).stderr).toContain(
    '--kind must be custom, oidc, saml or banklink',
  );
  expect((await runCli(['providers', 'scaffold', '--kind', 'custom', 'Bad_Name'])).code).toBe(2);
  expect(await runCli(['providers', 'scaffold', '--kind', 'custom', 'again', '--dir', outside])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('exists and is not empty'),
  });
});

await import(join(outside, 'app-confirm.test.ts'));

// The conventions every `vpm-gateway` command follows (src/cli/command.ts): --help prints the usage and
// exits 0, an unknown option or a missing value is named with the usage on stderr (exit 2), a configuration
// file that cannot be read is one line (exit 2) and one that reads but is invalid is refused (exit 1), and
// --config FILE (or -c FILE) is taken by every command the same way.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.ts';
import { loginEvents, testLog, type TestLog } from '../audit/helpers.ts';

async function run(...argv: string[]) {
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: (s: string) => {
      out.stdout += s;
    },
    stderr: (s: string) => {
      out.stderr += s;
    },
  };
  const code = await main(argv, io);
  return { code, ...out };
}

const COMMANDS = [
  ['start'],
  ['config', 'check'],
  ['certs', 'dev'],
  ['keys', 'init'],
  ['keys', 'rotate'],
  ['keys', 'status'],
  ['keys', 'revoke'],
  ['audit', 'verify'],
  ['audit', 'query'],
  ['audit', 'prove'],
  ['audit', 'verify-proof'],
  ['audit', 'consistency'],
  ['audit', 'repair'],
  ['audit', 'witness'],
];
const GROUPS = [[], ['config'], ['certs'], ['keys'], ['audit']];

test.each([...GROUPS, ...COMMANDS].map((words) => [words.join(' ') || '(program)', words]))(
  '%s --help prints its usage on stdout and exits 0',
  async (_name, words) => {
    for (const help of ['--help', '-h']) {
      const r = await run(...words, help);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^usage: vpm-gateway ${words.join(' ')}`.replace(/ $/, '')));
    }
  },
);

test.each(COMMANDS.map((words) => [words.join(' '), words]))(
  '%s: an unknown option and a missing value are named, with the usage on stderr (exit 2)',
  async (_name, words) => {
    const unknown = await run(...words, '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(new RegExp(`^vpm-gateway ${words.join(' ')}: Unknown option '--bogus'\\n`));
    expect(unknown.stderr).toContain(`usage: vpm-gateway ${words.join(' ')} `);
    const missing = await run(...words, '--config');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Option '-c, --config <value>' argument missing/);
    expect(missing.stderr).toContain('usage: vpm-gateway');
  },
);

test('a value that begins with a dash (a base64url key id) is taken after --, and the usage error says so', async () => {
  const dashed = await run('keys', 'revoke', '-Oabcdefgh');
  expect(dashed).toMatchObject({ code: 2, stdout: '' });
  expect(dashed.stderr).toMatch(
    /^vpm-gateway keys revoke: Unknown option '-O' \(a value that begins with a dash goes after --\)\n/,
  );
  const after = await run('keys', 'revoke', '--', '-Oabcdefgh');
  expect(after.stderr).not.toMatch(/Unknown option/);
  expect(after.stderr).not.toMatch(/^usage:/m);
});

test('a missing or unknown command is a usage error naming it', async () => {
  expect(await run()).toMatchObject({ code: 2, stdout: '' });
  expect((await run('frobnicate')).stderr).toMatch(/^vpm-gateway: unknown command "frobnicate"\n/);
  expect((await run('--bogus')).stderr).toMatch(/^vpm-gateway: unknown option "--bogus"\n/);
  expect(await run('audit', 'frobnicate')).toMatchObject({ code: 2, stderr: /^vpm-gateway audit: unknown command/ });
  expect(await run('config')).toMatchObject({ code: 2, stderr: /^vpm-gateway config: a command is missing/ });
  expect(await run('audit', 'verify', 'a', 'b')).toMatchObject({ code: 2, stderr: /unexpected argument "b"/ });
});

describe('config check', () => {
  test('takes the file as --config FILE, -c FILE or FILE alike', async () => {
    for (const argv of [['--config', 'config/demo.yaml'], ['-c', 'config/demo.yaml'], ['config/demo.yaml']]) {
      const r = await run('config', 'check', ...argv);
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining('config/demo.yaml: ok (') });
    }
  });

  test('two different files are a usage error; --json prints the result as JSON', async () => {
    const both = await run('config', 'check', 'config/demo.yaml', '--config', 'other.yaml');
    expect(both).toMatchObject({ code: 2, stderr: /two configuration files given/ });
    const json = await run('config', 'check', '--config', 'config/demo.yaml', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, path: 'config/demo.yaml', invalid: [], refused: [] });
  });

  test('a file that start would refuse exits 1, with its problems on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpm-cli-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, stringify({ issuer: 'not a url' }));
    const r = await run('config', 'check', '--config', file, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: configuration is invalid`);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, path: file });
  });
});

describe('--config on every command', () => {
  let log: TestLog;
  let configFile: string;
  let badFile: string;

  beforeAll(async () => {
    log = testLog({ checkpoint_every: 4 });
    const writer = await log.open();
    for (const event of loginEvents(0)) await writer.record(event);
    await writer.close();
    const { dir, signing_key, subject_hash_key } = log.config;
    configFile = join(log.root, 'gateway.yaml');
    writeFileSync(configFile, stringify({ audit: { dir, signing_key, subject_hash_key } }));
    badFile = join(log.root, 'bad.yaml');
    writeFileSync(badFile, stringify({ issuer: 'not a url', audit: { dir: 3 } }));
  });

  test('start reads the file it is given (and refuses an invalid one before writing anything)', async () => {
    const r = await run('start', '--config', badFile);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${badFile}: configuration is invalid`);
  });

  test('certs dev accepts it like every command', async () => {
    const r = await run('certs', 'dev', '--dir', join(log.root, 'pki'), '--config', configFile, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).created).toContain('ca.pem');
  });

  test('every audit command finds the log, its keys and its witnesses through it', async () => {
    const verify = await run('audit', 'verify', '-c', configFile, '--json');
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, key_pinned: true, witness_checked: true });
    expect(verify.code).toBe(0);
    const query = await run('audit', 'query', '--config', configFile, '--personal-code', '010180-15097', '--json');
    expect(JSON.parse(query.stdout).count).toBe(2);
    const proof = await run('audit', 'prove', '--config', configFile, '--index', '1', '--json');
    expect(proof.code).toBe(0);
    const proofFile = join(log.root, 'proof.json');
    writeFileSync(proofFile, proof.stdout);
    expect((await run('audit', 'verify-proof', proofFile, '--config', configFile)).code).toBe(0);
    expect((await run('audit', 'consistency', '--config', configFile, '--first', '4')).code).toBe(0);
    expect(await run('audit', 'repair', '--config', configFile)).toMatchObject({
      code: 0,
      stdout: /nothing to repair/,
    });
    expect(await run('audit', 'witness', '--config', configFile)).toMatchObject({ code: 0, stdout: /^OK: / });
  });

  test('an audit command given an invalid configuration is refused (exit 1) naming the setting', async () => {
    const r = await run('audit', 'verify', '--config', badFile);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(new RegExp(`^${badFile}: configuration is invalid\n  audit.dir: `));
  });
});

describe('a configuration file that cannot be read: one line naming it, exit 2, for every command that reads one', () => {
  // each command with the arguments it needs besides --config, so that only the file can stop it
  const READERS: [string, string[]][] = [
    ['start', []],
    ['config check', []],
    ['keys init', []],
    ['keys rotate', []],
    ['keys status', []],
    ['keys revoke', ['some-kid']],
    ['providers list', []],
    ['providers show', ['demo-eid']],
    ['providers check', ['demo-eid']],
    ['providers probe', ['demo-eid']],
    ['providers test-login', ['demo-eid']],
    ['providers transition', ['demo-eid', 'production', '--reason', 'x']],
    ['audit verify', []],
    ['audit query', []],
    ['audit prove', ['--index', '0']],
    ['audit verify-proof', ['proof.json']],
    ['audit consistency', ['--first', '1']],
    ['audit repair', []],
    ['audit witness', []],
  ];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-cli-'));
    writeFileSync(join(dir, 'unparsable.yaml'), 'issuer: [\n');
    writeFileSync(join(dir, 'invalid.yaml'), stringify({ issuer: 'not a url', audit: { dir: 3 } }));
  });

  test.each(READERS)('%s', async (name, args) => {
    const withConfig = (file: string) => run(...name.split(' '), ...args, '--config', join(dir, file));
    expect(await withConfig('missing.yaml')).toMatchObject({
      code: 2,
      stdout: '',
      stderr: `vpm-gateway ${name}: ${join(dir, 'missing.yaml')}: cannot read configuration file (ENOENT)\n`,
    });
    const unparsable = await withConfig('unparsable.yaml');
    expect(unparsable).toMatchObject({ code: 2, stdout: '' });
    expect(unparsable.stderr).toMatch(
      new RegExp(`^vpm-gateway ${name}: ${join(dir, 'unparsable.yaml')}: [^\n]*line 2, column 1:?\n$`),
    );
    // one that reads but is invalid is a refusal, as start refuses it
    const invalid = await withConfig('invalid.yaml');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(new RegExp(`^${join(dir, 'invalid.yaml')}: configuration is invalid\n`));
  });
});

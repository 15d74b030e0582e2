// What a test peer run on its own prints (src/onboarding/test-peer-output.ts), pasted as a person pastes
// it: the entry at the end of a copy of config/demo.yaml with the record saved in that copy's registry, or
// the entry with the inline block under `providers:` of a configuration without a registry.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from './cli.ts';

const root = resolve(import.meta.dirname, '../..');

/** The text under each heading of the printed parts, as printed (indentation kept). */
export function printedParts(printed: string): { entry: string; record: string; inline: string } {
  const under = (heading: string) => {
    const start = printed.indexOf(`\n${heading}`);
    if (start < 0) throw new Error(`no "${heading}" in what the peer printed:\n${printed}`);
    const body = printed.slice(printed.indexOf('\n', start + 1) + 1);
    return body.slice(0, body.search(/^# /m));
  };
  return { entry: under('# 1. '), record: under('# 2. '), inline: under("# 2'. ") };
}

/** config/demo.yaml (with its logos and registry) copied into `under`, the entry pasted at its end, the
 * record saved. */
export function demoWithPeer(under: string, printed: string, id: string): string {
  const { entry, record } = printedParts(printed);
  const dir = mkdtempSync(join(under, 'config-'));
  cpSync(join(root, 'config'), dir, { recursive: true });
  appendFileSync(join(dir, 'demo.yaml'), entry);
  writeFileSync(join(dir, 'registry', `${id}.yaml`), record);
  return join(dir, 'demo.yaml');
}

/** A configuration without a registry in `under`: the entry pasted under `providers:`, the inline block after it. */
export function bareWithPeer(under: string, printed: string): string {
  const { entry, inline } = printedParts(printed);
  const dir = mkdtempSync(join(under, 'bare-'));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(
    file,
    `issuer: http://localhost:3000\naudit:\n  dir: ${join(dir, 'audit')}\nproviders:\n${entry.trimEnd()}\n${inline}`,
  );
  return file;
}

/** A test peer's main.ts as `npm run` starts it (from the checkout); `printed` once it has printed every
 * part. Kill `child` in afterAll, whether or not it printed them. */
export function startTestPeer(script: string, args: string[]): { child: ChildProcess; printed: Promise<string> } {
  const child = spawn(process.execPath, [script, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  const printed = new Promise<string>((ready, failed) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('# Runs until Ctrl-C.\n')) ready(output);
    });
    child.once('exit', (code) => failed(new Error(`${script} exited ${code}: ${output}`)));
  });
  return { child, printed };
}

/** The peer run for a file's tests (started before them, stopped after): its temp dir and what it printed. */
export function runningTestPeer(
  script: string,
  args: (dir: string) => Promise<string[]>,
): () => { dir: string; printed: string } {
  let dir = '';
  let printed = '';
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vpm-test-peer-'));
    const peer = startTestPeer(script, await args(dir));
    child = peer.child;
    printed = await peer.printed;
  }, 60_000);
  afterAll(() => {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  return () => ({ dir, printed });
}

/** Both ways to paste what a peer printed, each a test that runs `config check` on the result. */
export function pastesPassConfigCheck(peer: () => { dir: string; printed: string }, id: string): void {
  test('the entry pasted at the end of config/demo.yaml, its record saved in the registry, passes config check', async () => {
    const r = await runCli(['config', 'check', demoWithPeer(peer().dir, peer().printed, id), '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, providers: 7 });
  });

  test('the entry with the inline block pasted under providers: of a configuration without a registry passes', async () => {
    const r = await runCli(['config', 'check', bareWithPeer(peer().dir, peer().printed), '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, providers: 1 });
  });
}

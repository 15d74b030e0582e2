// `npm run test-eid -- URL` (test-op/main.ts) prints what a configuration needs to offer the test eID: the
// provider entry, and its joining record for a configuration with a registry (the demo's) or the inline
// block for one without. Each part, pasted as printed, passes `config check`.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../test/support/cli.ts';
import { bareWithPeer, demoWithPeer, startTestPeer } from '../../test/support/test-peer-paste.ts';

let child: ChildProcess;
let printed = '';
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-test-eid-'));
  const peer = startTestPeer('providers/oidc/test-op/main.ts', ['http://localhost:3000', 'test-eid', dir]);
  child = peer.child;
  printed = await peer.printed;
}, 60_000);

afterAll(() => {
  child?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('the entry pasted at the end of config/demo.yaml, its record saved in the registry, passes config check', async () => {
  const file = demoWithPeer(dir, printed, 'test-eid');
  const r = await runCli(['config', 'check', file, '--json']);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, providers: 7 });
});

test('the entry with the inline block pasted under providers: of a configuration without a registry passes', async () => {
  const r = await runCli(['config', 'check', bareWithPeer(dir, printed), '--json']);
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, providers: 1 });
});

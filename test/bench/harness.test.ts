// The bench's own parts measure what they claim: the load generator completes real logins against the
// floor (its own process, the CPU probe preloaded) and counts a login only when the code exchange and the
// ES256 ID token check succeed; the probe reports the process's CPU time and its signatures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_CLIENT } from '../../bench/clients.ts';
import { load, type LoadTarget } from '../../bench/load.ts';
import { startNode, type Probed } from '../../bench/processes.ts';

let dir: string;
let floor: Probed;
let target: LoadTarget;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-bench-test-'));
  const started = await startNode('floor', new URL('../../bench/floor.ts', import.meta.url).pathname, [], dir);
  floor = started.probed;
  target = {
    ...BENCH_CLIENT,
    issuer: String(started.ready.issuer),
    upstream: 'page',
    provider: 'upstream',
    scope: 'openid profile',
  };
});

afterAll(async () => {
  await floor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('complete logins against the floor: counted, CPU and one ID token signature each reported by the probe', async () => {
  const before = await floor.cpu();
  const result = await load(target, 2, 1);
  const after = await floor.cpu();
  expect(result.failures).toBe(0);
  expect(result.logins).toBeGreaterThan(0);
  expect(result.latenciesMs).toHaveLength(result.logins);
  expect(after.cpuMicros).toBeGreaterThan(before.cpuMicros);
  const signs = (c: { counts: Record<string, number> }) =>
    Object.entries(c.counts).reduce((n, [k, v]) => n + (k === 'sign' || k.startsWith('subtle.sign') ? v : 0), 0);
  expect(signs(after) - signs(before)).toBeGreaterThanOrEqual(result.logins);
});

test('a login whose code exchange fails is a failure, never a counted login', async () => {
  const result = await load({ ...target, clientSecret: 'not-the-secret-0123456789-0123456789' }, 1, 0.2);
  expect(result.logins).toBe(0);
  expect(result.failures).toBeGreaterThan(0);
  expect(result.firstFailure).toContain('token request failed: 401');
});

// `kill -9` of a real gateway process (`vpm-gateway start`) in the middle of many concurrent logins, then
// a restart on the same files. A login's tokens leave only after its identity_released entry is durable,
// so every login that received tokens is found in the log after the crash; the log verifies (a torn last
// line, if the kill cut a write, is refused by name, never accepted); the restart takes over the dead
// writer's lock, records that, and signs what the crashed writer left unsigned. (A kill leaves the page
// cache to the kernel: what O_DSYNC adds against a power cut is checked in durable-append.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GatewayProcess } from '../ops/processes.ts';
import { freePort } from '../support/free-port.ts';
import { exchangeCode, loginThroughMock, RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { rpConfig } from '../support/agency-client.ts';
import { MOCK_PROVIDER } from '../support/provider-entries.ts';
import { cli } from './helpers.ts';

let dir: string;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The interaction uid of a login (its correlation id in the audit log), from the browser's history. */
function correlationOf(login: Awaited<ReturnType<typeof loginThroughMock>>): string {
  for (const hop of login.browser.history) {
    const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(hop.url)?.[1];
    if (uid) return uid;
  }
  throw new Error('no interaction in the login');
}

test('every login that received tokens before the kill is in the log, which verifies; the restart recovers', async () => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-crash-'));
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const config = join(dir, 'gateway.yaml');
  const auditDir = join(dir, 'audit');
  writeFileSync(
    config,
    stringify({
      issuer,
      port,
      keys: { dir: join(dir, 'keys') },
      log_level: 'warn',
      audit: { dir: auditDir, signing_key: join(dir, 'audit-key/checkpoint.pem'), checkpoint_every: 50 },
      clients: [{ client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
      providers: [MOCK_PROVIDER],
    }),
  );
  const first = new GatewayProcess(['start', '--config', config], { cwd: dir });
  await first.port();
  const rp = await rpConfig(issuer);

  const withTokens: string[] = [];
  let killed = false;
  const kill = () => {
    if (!killed) first.child.kill('SIGKILL');
    killed = true;
  };
  // 8 services' users logging in at once, each again and again, until the gateway is gone; the kill comes
  // once 40 logins got their tokens, with the others at every step of theirs
  const users = Array.from({ length: 8 }, async () => {
    for (;;) {
      try {
        const login = await loginThroughMock(rp);
        await exchangeCode(rp, login, login.callback!);
        withTokens.push(correlationOf(login));
        if (withTokens.length >= 40) kill();
      } catch (err) {
        if (killed) return;
        throw err;
      }
    }
  });
  await Promise.all(users);
  expect(await first.exit).toMatchObject({ signal: 'SIGKILL' });

  const released = new Set<string>();
  const query = await cli('query', auditDir, '--event', 'identity_released', '--limit', '100000', '--json');
  for (const entry of query.json.entries as { corr: string }[]) released.add(entry.corr);
  expect(withTokens.filter((corr) => !released.has(corr))).toEqual([]);

  const verify = await cli('verify', auditDir, '--config', config, '--json');
  const torn = verify.json.problems.filter((p: { kind: string }) => p.kind === 'torn');
  expect(verify.json.problems.filter((p: { kind: string }) => p.kind !== 'torn')).toEqual([]);
  if (torn.length) {
    // the kill cut a write: the start names it, and the repair moves it aside
    const refused = new GatewayProcess(['start', '--config', config], { cwd: dir });
    expect((await refused.exit).code).not.toBe(0);
    expect(refused.output).toContain(`audit log in ${auditDir} has a torn tail`);
    expect((await cli('repair', '--config', config)).code).toBe(0);
  }

  const second = new GatewayProcess(['start', '--config', config], { cwd: dir });
  await second.port();
  const login = await loginThroughMock(rp);
  await exchangeCode(rp, login, login.callback!);
  expect((await second.stop('SIGTERM')).code).toBe(0);
  const after = await cli('verify', auditDir, '--config', config, '--json');
  expect(after.json.problems).toEqual([]);
  expect(after.code).toBe(0);
  const takeover = await cli('query', auditDir, '--event', 'audit_writer_lock_taken_over', '--json');
  expect(takeover.json.count).toBe(1);
}, 120_000);

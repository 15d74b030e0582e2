// Where keys come from at start, and the `keys` commands as an operator runs them: production never
// generates keys (start is refused, naming the config file and the command that creates them); a key set
// is created once, shown, rotated (one rotation at a time); a key file swapped under the manifest is
// refused; instances on one store whose key sets differ are refused.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { stringify } from 'yaml';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { createGateway } from '../../src/gateway.ts';
import { MemoryAuditLog } from '../../src/audit/events.ts';
import { memoryLogger } from '../../src/logger.ts';
import { generateTokenKey } from '../../src/keys/material.ts';
import { tokenFile } from '../../src/keys/key-dir.ts';
import { RP_REDIRECT, RP_SECRET } from '../support/gateway.ts';
import { runCli } from '../support/cli.ts';

let dir: string;
let n = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vpm-keys-startup-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A sound production configuration behind a TLS terminator, with its own key and audit directories. */
function productionFile(change: Record<string, unknown> = {}) {
  n += 1;
  const keys = join(dir, `keys-${n}`);
  const audit = join(dir, `audit-${n}`);
  const raw = {
    issuer: 'https://gw.example.lv',
    production: true,
    port: 0,
    proxy: ['10.0.0.0/8'],
    log_level: 'error',
    keys: { dir: keys },
    audit: { dir: audit, signing_key: join(dir, `audit-key-${n}`, 'checkpoint.pem') },
    clients: [{ client_id: 'svc', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
    providers: [],
    ...change,
  };
  const file = join(dir, `production-${n}.yaml`);
  writeFileSync(file, stringify(raw));
  return { file, keys, audit };
}

describe('production', () => {
  test('start without a key set is refused, naming the config file and "keys init"; nothing is written', async () => {
    const { file, keys, audit } = productionFile();
    const start = await runCli(['start', '--config', file]);
    expect(start).toMatchObject({
      code: 1,
      stderr: `${file}: refusing to start:\n  keys.dir: no key set in ${keys}; create it once with "vpm-gateway keys init --config ${file}" and give every instance the same one\n`,
    });
    expect(existsSync(keys)).toBe(false);
    expect(existsSync(audit)).toBe(false);
  });

  test('keys init creates it (owner-only files); the gateway then starts with it, ready', async () => {
    const { file, keys } = productionFile();
    const init = await runCli(['keys', 'init', '--config', file]);
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/^created the key set in .* \(sha256:[0-9a-f]{64}\)\n$/);
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    const files = readdirSync(keys);
    // three token keys (PS256, ES256, RS256), one cookie key, the manifest
    expect(files.filter((f) => f.startsWith('token-'))).toHaveLength(3);
    expect(files.filter((f) => f.startsWith('cookie-'))).toHaveLength(1);
    for (const f of files) expect([f, statSync(join(keys, f)).mode & 0o777]).toEqual([f, 0o600]);
    const again = await runCli(['keys', 'init', '--config', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a key set');
    const gateway = await createGateway(loadConfigFile(file, { factories: ADAPTER_FACTORIES }), {
      audit: new MemoryAuditLog(),
      logger: memoryLogger(),
    });
    try {
      expect((await gateway.readiness()).checks.keys).toBe('ok');
    } finally {
      await gateway.close();
    }
  });

  test('a publication delay shorter than a reload plus the 60 s relying parties cache an unknown kid is refused', async () => {
    const { file } = productionFile({ keys: { dir: join(dir, 'unused'), publish_delay: 80, reload_interval: 30 } });
    const check = await runCli(['config', 'check', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('keys.publish_delay: must be at least keys.reload_interval + 60 (90) in production');
  });
});

test('a publication delay shorter than the reload interval is invalid everywhere', async () => {
  const { file } = productionFile({
    production: false,
    keys: { dir: join(dir, 'unused'), publish_delay: 5, reload_interval: 10 },
  });
  const check = await runCli(['config', 'check', file]);
  expect(check.code).toBe(1);
  expect(check.stderr).toContain('keys.publish_delay: must be at least keys.reload_interval');
});

describe('keys status and rotate', () => {
  test('status shows each key current; rotate adds next keys; a second rotation waits for the first', async () => {
    const { file } = productionFile();
    expect((await runCli(['keys', 'status', '--config', file])).code).toBe(1);
    expect((await runCli(['keys', 'init', '--config', file])).code).toBe(0);
    type Status = { digest: string; keys: { kind: string; alg: string | null; phase: string }[] };
    const status = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout) as Status;
    expect(status.keys.map((k) => [k.kind, k.alg, k.phase])).toEqual([
      ['token', 'PS256', 'current'],
      ['token', 'ES256', 'current'],
      ['token', 'RS256', 'current'],
      ['cookie', null, 'current'],
    ]);
    const rotate = await runCli(['keys', 'rotate', '--config', file]);
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/they sign from \d{4}-\d\d-\d\dT/);
    const after = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout) as Status;
    expect(after.digest).not.toBe(status.digest);
    expect(after.keys.filter((k) => k.phase === 'next').map((k) => k.kind)).toEqual([
      'token',
      'token',
      'token',
      'cookie',
    ]);
    const text = await runCli(['keys', 'status', '--config', file]);
    expect(text.stdout).toMatch(/token PS256 +\S+ +next +signs from /);
    const second = await runCli(['keys', 'rotate', '--token', '--config', file]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('a rotation is under way');
  });

  test('cookie keys set in the configuration are not rotated here', async () => {
    const { file } = productionFile({ cookie_keys: ['cookie-key-0123456789-0123456789-0123456789'] });
    expect((await runCli(['keys', 'init', '--config', file])).code).toBe(0);
    const cookie = await runCli(['keys', 'rotate', '--cookie', '--config', file]);
    expect(cookie.code).toBe(2);
    expect(cookie.stderr).toContain('sets cookie_keys');
    const both = await runCli(['keys', 'rotate', '--json', '--config', file]);
    expect(JSON.parse(both.stdout).added.map((k: { kind: string }) => k.kind)).toEqual(['token', 'token', 'token']);
  });

  test('a token key file swapped under the manifest is refused at start', async () => {
    const { file, keys } = productionFile();
    expect((await runCli(['keys', 'init', '--config', file])).code).toBe(0);
    const status = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout);
    const kid = status.keys.find((k: { alg: string }) => k.alg === 'ES256').id as string;
    const other = await generateTokenKey('ES256');
    writeFileSync(join(keys, tokenFile(kid)), JSON.stringify(other.jwk));
    const start = await runCli(['start', '--config', file]);
    expect(start.code).toBe(1);
    expect(start.stderr).toContain(`keys.dir: ${join(keys, tokenFile(kid))}: key does not match its kid ${kid}`);
  });
});

describe('instances on one store', () => {
  const prefix = `kt${randomBytes(4).toString('hex')}:`;
  const configFor = (keys: string, extra: Record<string, unknown>) =>
    parseConfig(
      stringify({
        issuer: 'http://127.0.0.1:1',
        log_level: 'error',
        keys: { dir: keys },
        store: { type: 'redis', url: process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', prefix },
        clients: [{ client_id: 'rp', client_secret: RP_SECRET, redirect_uris: [RP_REDIRECT] }],
        providers: [],
        ...extra,
      }),
      'test.yaml',
      { factories: ADAPTER_FACTORIES, env: {} },
    );
  const start = (keys: string, extra: Record<string, unknown> = {}) =>
    createGateway(configFor(keys, extra), { audit: new MemoryAuditLog(), logger: memoryLogger() });

  test('a second instance whose key set (or static cookie keys) differs is refused; once the first stops it starts', async () => {
    const first = await start(join(dir, 'store-a'));
    const same = await start(join(dir, 'store-a'));
    await expect(start(join(dir, 'store-b'))).rejects.toThrow(
      /keys\.dir: the key set in .*store-b \(sha256:[0-9a-f]{64}\) differs from the one 2 running instance\(s\) use \(sha256:/,
    );
    // the same key set with other cookie keys: a login moving between them would fail, so refused too
    await expect(start(join(dir, 'store-a'), { cookie_keys: ['x'.repeat(40)] })).rejects.toThrow(
      /differs from the one/,
    );
    await same.close();
    await first.close();
    const second = await start(join(dir, 'store-b'));
    expect((await second.readiness()).checks.keys).toBe('ok');
    await second.close();
  });
});

describe('keys.source: store', () => {
  test('needs the Redis store: a memory store is refused by the schema', async () => {
    const { file } = productionFile({ production: false, keys: { source: 'store' } });
    const check = await runCli(['config', 'check', file]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('keys.source: store needs store.type redis');
  });

  test('keys init, status and rotate work on the key set in the store; nothing is written to keys.dir', async () => {
    const keys = join(dir, 'never-written');
    const { file } = productionFile({
      production: false,
      keys: { source: 'store', dir: keys },
      store: {
        type: 'redis',
        url: process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        prefix: `ks${randomBytes(4).toString('hex')}:`,
      },
    });
    const init = await runCli(['keys', 'init', '--config', file]);
    expect(init).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('created the key set in the store key keys:set'),
    });
    expect((await runCli(['keys', 'init', '--config', file])).code).toBe(1);
    const status = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout);
    expect(status.keys.map((k: { phase: string }) => k.phase)).toEqual(['current', 'current', 'current', 'current']);
    expect((await runCli(['keys', 'rotate', '--config', file])).code).toBe(0);
    const after = JSON.parse((await runCli(['keys', 'status', '--json', '--config', file])).stdout);
    expect(after.keys.filter((k: { phase: string }) => k.phase === 'next')).toHaveLength(4);
    expect(after.digest).not.toBe(status.digest);
    const gateway = await createGateway(loadConfigFile(file, { factories: ADAPTER_FACTORIES }), {
      audit: new MemoryAuditLog(),
      logger: memoryLogger(),
    });
    try {
      const jwks = gateway.keys.ring.view.published.map((k) => k.kid);
      expect(jwks).toHaveLength(6);
      for (const key of status.keys.filter((k: { kind: string }) => k.kind === 'token')) expect(jwks).toContain(key.id);
    } finally {
      await gateway.close();
    }
    expect(existsSync(keys)).toBe(false);
  });
});

// Rollback by someone who can write the audit directory but holds no key: a log cut back to an earlier
// checkpoint, a deleted witness. Each is refused at start (openAuditLog / createGateway) and by `audit
// verify --config`; the witnesses (a file outside the directory, Redis) and the HTTP checkpoint endpoint
// are checked against the real log (./witnessed-log.ts). Forged entries: ./witness-forged-tail.test.ts.
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { witnessPath } from '../../src/audit/config.ts';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../src/audit/keys.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createGateway } from '../../src/gateway.ts';
import { memoryLogger } from '../../src/logger.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { startGateway } from '../support/gateway.ts';
import { cli, configFile, testLog } from './helpers.ts';
import {
  REDIS_URL,
  writtenLog,
  segmentOf,
  checkpointLines,
  truncateToFirstCheckpoint,
  newPrefix,
} from './witnessed-log.ts';

describe('a log cut back to an earlier checkpoint', () => {
  test('is refused at start and by `audit verify --config` (file witness), though it verifies on its own', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const witnessed = decodeCheckpointLine(readFileSync(witnessPath(t.config), 'utf8').trimEnd());
    expect(witnessed).toEqual(decodeCheckpointLine(checkpointLines(t).at(-1)!));
    truncateToFirstCheckpoint(t);

    // without a witness nothing in the directory shows it, and verify says so
    const alone = await cli('verify', t.dir, '--public-key', t.publicKey);
    expect(alone.code).toBe(0);
    expect(alone.stdout).toContain('no witness checked');

    await expect(t.open()).rejects.toThrow(
      `the log is shorter than witness file ${witnessPath(t.config)}: the witness holds checkpoint ${witnessed.n} (size ${witnessed.size}`,
    );
    const verify = await cli('verify', '--config', configFile(t));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(
      /FAILED: the log is shorter than witness file .* holds checkpoint \d+ .* latest checkpoint is 0 \(size 5/,
    );
    // a search with --config warns of it as well; what the shorter log holds is still listed
    const before = await cli('query', t.dir, '--public-key', t.publicKey, '--event', 'A100');
    expect(before.stderr).toBe('');
    const query = await cli('query', '--config', configFile(t), '--event', 'A100');
    expect(query.code).toBe(0);
    expect(query.stdout).toMatch(/#0 .* A100 {2}authorization_request .*\n1 matching entries\n$/);
    expect(query.stderr).toMatch(
      /^warning: the log .* fails verification: the log is shorter than witness file .* holds checkpoint \d+ .* latest checkpoint is 0 \(size 5.*; run "vpm-gateway audit verify --config FILE"\n$/,
    );
    // a monitor's saved checkpoint (as served over HTTP) catches it with the public key alone
    const saved = join(t.root, 'saved-checkpoint.json');
    writeFileSync(saved, JSON.stringify(witnessed));
    const monitor = await cli('verify', t.dir, '--public-key', t.publicKey, '--witness', saved);
    expect(monitor.code).toBe(1);
    expect(monitor.stdout).toContain('the log is shorter than witness file');
  });

  test.each([
    ['the checkpoints and the key copy deleted, the segments kept', ['checkpoints.jsonl', 'checkpoint-key.pub.pem']],
    ['every file deleted', undefined],
  ])('%s: a monitor verifying against its saved witness without --public-key is told it failed', async (_, files) => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const saved = join(t.root, 'saved-checkpoint.json');
    writeFileSync(saved, readFileSync(witnessPath(t.config), 'utf8'));
    expect((await cli('verify', t.dir, '--witness', saved)).code).toBe(0);
    for (const file of files ?? readdirSync(t.dir)) rmSync(join(t.dir, file), { recursive: true });
    const monitor = await cli('verify', t.dir, '--witness', saved);
    expect(monitor.code).toBe(1);
    expect(monitor.stdout).toContain(`FAILED: witness file ${saved} cannot be checked: the log has no checkpoint key`);
    expect(monitor.stdout).not.toContain('agrees');
  });

  test('is refused by createGateway and by verify with the witness in Redis, even when the file witness is rolled back too', async () => {
    const t = testLog({ checkpoint_every: 5 });
    const prefix = newPrefix();
    const store = new RedisStore({ url: REDIS_URL, prefix });
    let kid = '';
    try {
      await writtenLog(t, { store });
      kid = JSON.parse(
        Buffer.from(decodeCheckpointLine(checkpointLines(t)[0]!).sig.split('.')[0]!, 'base64url').toString(),
      ).kid;
      expect(await store.get(`audit-witness:${kid}`)).toBe(`${checkpointLines(t).at(-1)!}\n`);
      truncateToFirstCheckpoint(t);
      // the file witness alone would now agree: only Redis still knows
      writeFileSync(witnessPath(t.config), `${checkpointLines(t)[0]!}\n`);

      const path = configFile(t, { url: REDIS_URL, prefix });
      const config = parseConfig(readFileSync(path, 'utf8'), path, { factories: ADAPTER_FACTORIES, env: {} });
      await expect(createGateway(config, { logger: memoryLogger() })).rejects.toThrow(
        /the log is shorter than witness store key audit-witness:\S+: the witness holds checkpoint 5 \(size 28/,
      );
      const verify = await cli('verify', '--config', path, '--json');
      expect(verify.code).toBe(1);
      expect(verify.json.ok).toBe(false);
      expect(verify.json.witness_problems).toEqual([
        expect.stringContaining('the log is shorter than witness store key audit-witness:'),
      ]);
      const query = await cli('query', '--config', path, '--event', 'authorization_request');
      expect(query.code).toBe(0);
      expect(query.stdout).toContain('1 matching entries');
      expect(query.stderr).toMatch(/^warning: .* fails verification: the log is shorter than witness store key /);
    } finally {
      await store.delete(`audit-witness:${kid}`).catch(() => {});
      await store.close();
    }
  });

  test('a log whose history differs from the witnessed checkpoint is named as inconsistent', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const latest = decodeCheckpointLine(checkpointLines(t).at(-1)!);
    // what the witness would hold had the log been rewritten after it was witnessed: same number, other root
    const signer = await loadOrCreateCheckpointKey(t.config.signing_key, 'EdDSA');
    const other = await signCheckpoint(
      { n: latest.n, size: latest.size, root: 'ab'.repeat(32), time: latest.time },
      signer,
    );
    writeFileSync(witnessPath(t.config), encodeCheckpointLine(other));
    await expect(t.open()).rejects.toThrow(
      `the log is inconsistent with witness file ${witnessPath(t.config)}: checkpoint ${latest.n} differs in root, sig`,
    );
    expect((await cli('verify', '--config', configFile(t))).stdout).toContain(
      `checkpoint ${latest.n} differs in root, sig`,
    );
    // and a witness that is not a checkpoint of this key at all is refused as such
    writeFileSync(witnessPath(t.config), JSON.stringify({ ...latest, time: '2000-01-01T00:00:00.000Z' }));
    await expect(t.open()).rejects.toThrow(/holds no valid checkpoint of this log: signature does not verify/);
  });
});

describe('the witness', () => {
  test('absent on a first start is created; deleted later, the start is refused until `audit witness --reset`', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t); // first start: no witness yet, and none needed
    rmSync(witnessPath(t.config));
    await expect(t.open()).rejects.toThrow(
      `witness file ${witnessPath(t.config)} holds no checkpoint, but the log has 6`,
    );
    const path = configFile(t);
    expect((await cli('verify', '--config', path)).code).toBe(1);
    const reset = await cli('witness', '--config', path, '--reset');
    expect(reset.stdout).toContain('now hold checkpoint 5 (size 28');
    expect(reset.code).toBe(0);
    expect((await cli('witness', '--config', path)).code).toBe(0);
    const log = await t.open();
    await log.close();
  });

  test('is refused to be reset onto a log that fails verification', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    rmSync(witnessPath(t.config));
    appendFileSync(segmentOf(t), 'garbage\n');
    const reset = await cli('witness', '--config', configFile(t), '--reset');
    expect(reset.code).toBe(1);
    expect(reset.stdout).toContain('REFUSED: the log fails verification');
  });

  test('a witness that cannot be updated refuses further events and makes the log not ready (fail closed)', async () => {
    const t = testLog({ checkpoint_every: 5 });
    const unwritable = join(t.root, 'no-such-dir', 'witness.json');
    const log = await testLog({ ...t.config, witness: { path: unwritable } }).open();
    await log.record({ type: 'logout' });
    await log.checkpoint(); // the checkpoint is durable; handing it to the witness fails
    expect(log.status()).toMatchObject({ healthy: false, error: 'cannot update the audit witness (ENOENT)' });
    await expect(log.record({ type: 'logout' })).rejects.toThrow(
      'audit log unavailable: cannot update the audit witness (ENOENT)',
    );
    await log.close();
  });

  test('GET /audit/checkpoint serves the latest signed checkpoint, not cached', async () => {
    const t = testLog({ checkpoint_every: 5 });
    const log = await t.open();
    const gw = await startGateway({ audit: log });
    try {
      const none = await fetch(`${gw.issuer}/audit/checkpoint`);
      expect(none.status).toBe(404);
      await log.checkpoint(); // covers the start-up events
      const res = await fetch(`${gw.issuer}/audit/checkpoint`);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const served = await res.json();
      expect(served).toEqual(decodeCheckpointLine(checkpointLines(t).at(-1)!));
      // what a monitor saves is accepted by the CLI as a checkpoint to check the log against
      const saved = join(t.root, 'served.json');
      writeFileSync(saved, JSON.stringify(served));
      expect((await cli('verify', t.dir, '--public-key', t.publicKey, '--witness', saved)).code).toBe(0);
    } finally {
      await gw.close();
    }
  });
});

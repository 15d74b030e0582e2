// Rollback and forgery by someone who can write the audit directory but holds no key: a log cut back to
// an earlier checkpoint, a forged tail entry, a forged future time, a deleted witness. Each is refused at
// start (openAuditLog / createGateway) and by `audit verify --config`; the witnesses (a file outside the
// directory, Redis) and the HTTP checkpoint endpoint are checked against the real log.
import { randomBytes } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { entryMacKey, witnessPath } from '../../src/audit/config.ts';
import { EntryMac } from '../../src/audit/entry-mac.ts';
import { CHECKPOINTS_FILE, encodeEntryLine } from '../../src/audit/format.ts';
import { decodeCheckpointLine, encodeCheckpointLine } from '../../src/audit/checkpoint-format.ts';
import { loadOrCreateCheckpointKey, signCheckpoint } from '../../src/audit/keys.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createGateway } from '../../src/gateway.ts';
import { memoryLogger } from '../../src/logger.ts';
import { ADAPTER_FACTORIES } from '../../src/registry/adapters.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { startGateway } from '../support/gateway.ts';
import { cli, configFile, loginEvents, testLog, type TestLog } from './helpers.ts';

const REDIS_URL = process.env.VPM_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A log of 4 logins (28 entries) with a checkpoint every 5 entries, closed (fully checkpointed). */
async function writtenLog(t: TestLog, options: { store?: RedisStore } = {}): Promise<void> {
  const log = await t.open(options.store ? { store: options.store } : undefined);
  for (let n = 0; n < 4; n++) for (const e of loginEvents(n)) await log.record(e);
  await log.close();
}

const segmentOf = (t: TestLog) => join(t.dir, readdirSync(t.dir).find((f) => f.startsWith('segment-'))!);
const checkpointLines = (t: TestLog) => readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8').trimEnd().split('\n');

/** The attack: segment and checkpoints.jsonl cut back to the first checkpoint (a valid, shorter log). */
function truncateToFirstCheckpoint(t: TestLog): number {
  const first = checkpointLines(t)[0]!;
  writeFileSync(join(t.dir, CHECKPOINTS_FILE), `${first}\n`);
  const size = decodeCheckpointLine(first).size;
  const entries = readFileSync(segmentOf(t), 'utf8').split('\n').slice(0, size);
  writeFileSync(segmentOf(t), `${entries.join('\n')}\n`);
  return size;
}

const newPrefix = () => `vpm-test-witness-${randomBytes(6).toString('hex')}:`;

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

describe('a forged tail entry (correct leaf hash, no key)', () => {
  async function forged(t: TestLog, time: string, mac: EntryMac | undefined): Promise<number> {
    const lines = readFileSync(segmentOf(t), 'utf8').trimEnd().split('\n');
    const count = lines.length;
    const previous = Buffer.from((JSON.parse(lines.at(-1)!) as { leaf: string }).leaf, 'hex');
    const unsealed = `{"i":${count},"t":"${time}","type":"identity_released","code":"A150","corr":"forged","client":"rp"}`;
    const body = mac
      ? mac.seal(unsealed, previous)
      : `${unsealed.slice(0, -1)},"mac":"${randomBytes(32).toString('hex')}"}`;
    appendFileSync(segmentOf(t), encodeEntryLine(body).line);
    return count;
  }

  test('is refused at start, fails `verify --config`, and `verify --public-key` does not call it OK', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const index = await forged(t, new Date().toISOString(), undefined);

    await expect(t.open()).rejects.toThrow(`entry ${index} (`);
    await expect(t.open()).rejects.toThrow('entry MAC does not verify');
    const verify = await cli('verify', '--config', configFile(t));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`FAILED: first bad position: entry ${index} (`);
    expect(verify.stdout).toContain('entry MAC does not verify');

    // query shows the entry, but not as genuine: with --config its MAC fails, without it nothing vouches for it
    const shown = await cli('query', '--config', configFile(t), '--correlation', 'forged');
    expect(shown.stdout).toContain('1 matching entries');
    expect(shown.stderr).toContain(`warning: the log ${t.dir} fails verification (entry ${index} (`);
    expect(shown.stderr).toContain('entry MAC does not verify');
    const bare = await cli('query', t.dir, '--correlation', 'forged');
    expect(bare.stderr).toContain(
      `warning: 1 matching entries of ${t.dir} follow its latest checkpoint: no signature covers them yet`,
    );
    expect((await cli('query', t.dir, '--correlation', 'corr-1')).stderr).toBe('');

    const pub = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(pub.json.unauthenticated).toBe(1);
    const text = await cli('verify', t.dir, '--public-key', t.publicKey);
    expect(text.stdout).not.toContain('OK: every entry');
    expect(text.stdout).toContain('NOT AUTHENTICATED: the last 1 entries are covered by no signed checkpoint');
  });

  test('the reading commands never make an entry MAC key: without it they stop, naming it, and write nothing', async () => {
    const t = testLog({ checkpoint_every: 1000 });
    await writtenLog(t);
    const keyFile = join(t.root, 'keys', 'entry-mac.key');
    rmSync(keyFile);
    for (const args of [['verify'], ['query', '--correlation', 'corr-1'], ['witness']]) {
      const run = await cli(args[0]!, '--config', configFile(t), ...args.slice(1));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`the entry MAC key ${keyFile} is missing`);
      expect(readdirSync(join(t.root, 'keys'))).not.toContain('entry-mac.key');
    }
  });

  test("entries of another log sealed with the same key (another worker's) are refused on this log's tail", async () => {
    // two logs sharing the checkpoint and MAC keys, as the workers of one gateway do
    const one = testLog({ checkpoint_every: 1000 });
    await writtenLog(one);
    const size = readFileSync(segmentOf(one), 'utf8').trimEnd().split('\n').length;
    const two = testLog({
      name: 'worker-2',
      checkpoint_every: 1000,
      checkpoint_interval_ms: 3_600_000,
      signing_key: one.config.signing_key,
    });
    const writer = await two.open();
    for (let n = 0; n < 6; n++) for (const e of loginEvents(100 + n)) await writer.record(e);
    // the other log's entries from this log's size on: indices and times follow on from this log's
    const copied = readFileSync(segmentOf(two), 'utf8').trimEnd().split('\n').slice(size);
    appendFileSync(segmentOf(one), `${copied.join('\n')}\n`);
    await writer.close();

    await expect(one.open()).rejects.toThrow(`entry ${size} (`);
    await expect(one.open()).rejects.toThrow('copied from another log');
    const verify = await cli('verify', '--config', configFile(one));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`FAILED: first bad position: entry ${size} (`);
    // the same log opens again once they are gone: its own entries still verify
    const own = readFileSync(segmentOf(one), 'utf8').trimEnd().split('\n').slice(0, size);
    writeFileSync(segmentOf(one), `${own.join('\n')}\n`);
    await (await one.open()).close();
  });

  test('a tail sealed before the chaining (the bare entry MACed) opens; after a chained entry such an entry is refused', async () => {
    const t = testLog({ checkpoint_every: 1000 });
    await (await t.open()).close(); // the keys, and a checkpoint of the empty log
    const mac = new EntryMac(entryMacKey(t.config));
    const bare = (i: number, corr: string) => {
      const unsealed = `{"i":${i},"t":"${new Date().toISOString()}","type":"identity_released","code":"A150","corr":"${corr}","client":"rp"}`;
      return encodeEntryLine(`${unsealed.slice(0, -1)},"mac":"${mac.mac(unsealed).toString('hex')}"}`).line;
    };
    // the tail an earlier version left
    const segment = join(t.dir, 'segment-000000000000.jsonl');
    appendFileSync(segment, `${bare(0, 'earlier')}${bare(1, 'earlier')}`);
    const log = await t.open();
    expect(log.status().entries).toBe(2);
    await log.record(loginEvents(1)[0]!);
    await log.close();
    // an entry sealed the earlier way (from another log of that time, indices and times fitting) after it
    appendFileSync(segment, bare(3, 'copied'));
    await expect(t.open()).rejects.toThrow('entry 3 (');
    await expect(t.open()).rejects.toThrow('sealed the way entries were before MAC chaining, after chained entries');
    expect((await cli('verify', '--config', configFile(t))).code).toBe(1);
  });

  test('a future time (even one carrying a valid MAC) is refused at start', async () => {
    const t = testLog({ checkpoint_every: 5 });
    await writtenLog(t);
    const ahead = new Date(Date.now() + 24 * 3600_000).toISOString();
    await forged(t, ahead, new EntryMac(entryMacKey(t.config)));
    await expect(t.open()).rejects.toThrow(`the log holds time ${ahead}, ahead of this host's clock`);
    const verify = await cli('verify', '--config', configFile(t));
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('audit.max_clock_skew_ms');
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

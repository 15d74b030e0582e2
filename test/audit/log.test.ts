// The file-backed writer: group commit, checkpoints, restart, privacy, and failing closed.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactDecrypt } from 'jose';
import { auditConfigSchema } from '../../src/audit/config.ts';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { CHECKPOINTS_FILE, decodeEntryLine, type StoredEntry } from '../../src/audit/format.ts';
import { hashSubject } from '../../src/audit/privacy.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import {
  allBytes,
  cli,
  CODE,
  HASH_KEY,
  loginEvents,
  OTHER_SUBJECT,
  SUBJECT,
  testLog,
  type TestLog,
} from './helpers.ts';

function entries(dir: string): StoredEntry[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('segment-'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => decodeEntryLine(Buffer.from(l)).entry);
}

describe('writing', () => {
  test('concurrent records are batched into few durable writes, in order, and verify', async () => {
    const t = testLog({ checkpoint_every: 100 });
    const log = await t.open();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        log.record({ type: 'provider_chosen', correlationId: `c${i}`, clientId: 'rp', providerId: 'mock-eid' }),
      ),
    );
    const status = log.status();
    expect(status.entries).toBe(500);
    expect(status.writes).toBeLessThan(50);
    await log.close();
    const stored = entries(t.dir);
    expect(stored.map((e) => e.i)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (const e of stored) expect(e.t).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const scan = await scanLog(t.dir, { key: undefined });
    expect(scan.problems).toEqual([]);
    expect(scan.checkpoints.at(-1)!.checkpoint.size).toBe(500);
  });

  test('an acknowledged event is already in the segment file', async () => {
    const t = testLog();
    const log = await t.open();
    await log.record({ type: 'config_loaded', detail: { digest: 'sha256:xyz' } });
    expect(readFileSync(join(t.dir, 'segment-000000000000.jsonl'), 'utf8')).toContain('"type":"config_loaded"');
    await log.close();
  });

  test('a checkpoint follows every N entries, and the interval covers a quiet log', async () => {
    const sizes = (t: TestLog) =>
      readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).size);
    // the count alone (no interval can interleave: an hour)
    const t = testLog({ checkpoint_every: 3, checkpoint_interval_ms: 3_600_000 });
    const log = await t.open();
    for (let i = 0; i < 7; i++) await log.record({ type: 'provider_chosen' });
    expect(sizes(t)).toEqual([3, 6]);
    await log.close();
    // a quiet log is covered by the interval timer: the checkpoint it writes is handed to the store witness,
    // whose write the test waits for (not for a time)
    let witnessed!: () => void;
    const checkpointWitnessed = new Promise<void>((resolve) => (witnessed = resolve));
    const store = new (class extends MemoryStore {
      override async set(key: string, value: string, ttlSeconds: number): Promise<void> {
        await super.set(key, value, ttlSeconds);
        if (key.startsWith('audit-witness:')) witnessed();
      }
    })();
    const q = testLog({ checkpoint_every: 1000, checkpoint_interval_ms: 20 });
    const quiet = await q.open({ store });
    await quiet.record({ type: 'provider_chosen' });
    await checkpointWitnessed;
    expect(quiet.status().checkpointed).toBe(1);
    expect(sizes(q)).toEqual([1]);
    await quiet.close();
    await store.close();
  });

  test('a restarted log continues the tree, the indices and the checkpoint numbers', async () => {
    const t = testLog({ checkpoint_every: 4 });
    let log = await t.open();
    for (const e of loginEvents(1)) await log.record(e);
    await log.close();
    log = await t.open();
    for (const e of loginEvents(2)) await log.record(e);
    await log.close();
    expect(entries(t.dir).map((e) => e.i)).toEqual(Array.from({ length: 14 }, (_, i) => i));
    const { code, json } = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(json.problems).toEqual([]);
    expect(code).toBe(0);
    expect(json.latest).toMatchObject({ size: 14 });
    expect(
      readFileSync(join(t.dir, CHECKPOINTS_FILE), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).n),
    ).toEqual([0, 1, 2, 3]);
  });

  test('a record begun before close() is written, and under the final checkpoint', async () => {
    const t = testLog();
    const log = await t.open();
    await log.record({ type: 'config_loaded', detail: { digest: 'sha256:xyz' } });
    await log.checkpoint(); // every entry so far is covered: close() alone would find nothing to sign
    // the entry is still being encoded when close() begins (a request's last record as the gateway stops)
    const recorded = log.record({ type: 'tokens_issued_error', clientId: 'rp', detail: { error: 'invalid_grant' } });
    await log.close();
    await recorded;
    const scan = await scanLog(t.dir, { key: undefined });
    expect(scan.problems).toEqual([]);
    expect(entries(t.dir).map((e) => e.type)).toEqual(['config_loaded', 'tokens_issued_error']);
    expect(scan.checkpoints.at(-1)!.checkpoint.size).toBe(2);
    await expect(log.record({ type: 'logout' })).rejects.toThrow('audit log is closed');
  });

  test('segments roll over at the configured size', async () => {
    const t = testLog({ segment_max_bytes: 4096 });
    const log = await t.open();
    for (let n = 0; n < 4; n++) for (const e of loginEvents(n)) await log.record(e);
    await log.close();
    const segs = readdirSync(t.dir).filter((f) => f.startsWith('segment-'));
    expect(segs.length).toBeGreaterThan(1);
    for (const s of segs) expect(readFileSync(join(t.dir, s)).length).toBeLessThanOrEqual(4096);
    expect((await scanLog(t.dir)).problems).toEqual([]);
  });

  test('bad events are refused, not written', async () => {
    const t = testLog();
    const log = await t.open();
    await expect(log.record({ type: 'no_such_event' } as never)).rejects.toThrow(/not in the vocabulary/);
    await expect(log.record({ type: 'logout', clientId: 42 } as never)).rejects.toThrow(/clientId must be a string/);
    await log.close();
    expect(log.status().entries).toBe(0);
    await expect(log.record({ type: 'logout' })).rejects.toThrow(AuditUnavailableError);
  });
});

describe('privacy', () => {
  test('personal codes, names and claims never appear in plain text; claims are JWE to the auditor', async () => {
    const auditor = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const t = testLog();
    const auditorPath = join(t.root, 'auditor.pub.pem');
    writeFileSync(auditorPath, auditor.publicKey.export({ type: 'spki', format: 'pem' }));
    const t2 = testLog({ auditor_public_key: auditorPath });
    const log = await t2.open();
    for (const e of loginEvents(1)) await log.record(e);
    // a mistake upstream: a personal code in free-form detail is removed, not stored
    await log.record({ type: 'error', detail: { message: `lookup failed for ${CODE}` } });
    await log.record({ type: 'error', detail: { message: `lookup failed for ${SUBJECT}` } });
    await log.close();
    const bytes = allBytes(t2.dir).toString('utf8');
    for (const secret of [CODE, CODE.replace('-', ''), SUBJECT, 'Jānis', 'Bērziņš', 'J\\u0101nis'])
      expect(bytes).not.toContain(secret);
    const released = entries(t2.dir).find((e) => e.type === 'identity_released')!;
    expect(released.sub).toBe(hashSubject(HASH_KEY, SUBJECT));
    const { plaintext, protectedHeader } = await compactDecrypt(released.claims!, auditor.privateKey);
    expect(protectedHeader).toMatchObject({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM' });
    expect(JSON.parse(new TextDecoder().decode(plaintext))).toMatchObject({
      sub: SUBJECT,
      given_name: 'Jānis',
      personal_code: CODE,
    });
    expect(entries(t2.dir).at(-2)!.detail).toEqual({ message: 'lookup failed for [redacted]' });
    expect(entries(t2.dir).at(-1)!.detail).toEqual({ message: 'lookup failed for [redacted]' });
    for (const line of t2.logger.lines) expect(line).not.toContain(CODE);
  });

  test('without an auditor key the claims are not stored at all', async () => {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1)) await log.record(e);
    await log.close();
    expect(entries(t.dir).some((e) => e.claims !== undefined)).toBe(false);
    expect(allBytes(t.dir).toString('utf8')).not.toContain(CODE);
  });

  test("a search by personal code finds that person's login and nobody else's", async () => {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1, OTHER_SUBJECT, 'rp-other')) await log.record(e);
    for (const e of loginEvents(2, SUBJECT, 'rp')) await log.record(e);
    await log.close();
    const keyFile = join(t.root, 'hash.key');
    writeFileSync(keyFile, `${HASH_KEY}\n`);
    for (const input of [CODE, CODE.replace('-', ''), SUBJECT]) {
      const { code, json } = await cli('query', t.dir, '--personal-code', input, '--hash-key-file', keyFile, '--json');
      expect(code).toBe(0);
      expect(json.entries.map((e: StoredEntry) => [e.type, e.corr, e.client])).toEqual([
        ['verification', 'corr-2', 'rp'],
        ['identity_released', 'corr-2', 'rp'],
      ]);
    }
    // `-` reads the code from standard input: the command line (ps, shell history) never holds it
    const cliPath = join(import.meta.dirname, '../../bin/vpm-gateway.js');
    const piped = execFileSync(
      process.execPath,
      [cliPath, 'audit', 'query', t.dir, '--personal-code', '-', '--hash-key-file', keyFile, '--json'],
      { encoding: 'utf8', input: `${CODE}\n` },
    );
    expect((JSON.parse(piped) as { entries: StoredEntry[] }).entries.map((e) => e.corr)).toEqual(['corr-2', 'corr-2']);
    // the login as a whole, by its correlation id
    const all = await cli('query', t.dir, '--correlation', 'corr-2', '--json');
    expect(all.json.count).toBe(7);
    // with the wrong key nothing matches
    writeFileSync(keyFile, 'another-hash-key-0123456789-0123456789');
    expect((await cli('query', t.dir, '--personal-code', CODE, '--hash-key-file', keyFile, '--json')).json.count).toBe(
      0,
    );
    // an invalid code is a clear error, not a silent empty result
    const bad = await cli('query', t.dir, '--personal-code', '010180-15098', '--hash-key-file', keyFile);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/check digit/);
  });

  test('a reference that starts with a dash is looked up as it is written on the error page', async () => {
    // correlation ids are the engine's base64url interaction ids, so one in 32 starts with "-"
    const t = testLog();
    const log = await t.open();
    const dashed = loginEvents(1).map((e) => ({ ...e, correlationId: '-LIg6--Iuz3kQw' }));
    for (const e of [...loginEvents(2), ...dashed]) await log.record(e);
    await log.close();
    for (const argv of [
      ['--correlation', '-LIg6--Iuz'],
      ['--correlation=-LIg6--Iuz'],
      ['--json', '--correlation', '-LIg6--Iuz'],
    ]) {
      const found = await cli('query', t.dir, ...argv, '--json');
      expect(found.code).toBe(0);
      expect(found.json.count).toBe(7);
      expect(new Set(found.json.entries.map((e: StoredEntry) => e.corr))).toEqual(new Set(['-LIg6--Iuz3kQw']));
    }
    // an option after a value-taking one is still that option, so a forgotten value is named
    const missing = await cli('query', t.dir, '--correlation', '--limit', '5');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vpm-gateway audit query: Option '--correlation' argument missing\n/);
  });
});

describe('failing closed', () => {
  test('an unusable directory refuses to open', async () => {
    const t = testLog();
    mkdirSync(t.root, { recursive: true });
    writeFileSync(t.dir, 'not a directory');
    await expect(t.open()).rejects.toThrow(AuditUnavailableError);
    await expect(t.open()).rejects.toThrow(/cannot use audit directory/);
  });

  test('a directory written with another checkpoint key refuses to open', async () => {
    const t = testLog();
    (await t.open()).close();
    const other = auditConfigSchema.parse({ ...t.config, signing_key: join(t.root, 'other', 'key.pem') });
    const { openAuditLog } = await import('../../src/audit/config.ts');
    await expect(openAuditLog(other, t.logger)).rejects.toThrow(/belongs to another checkpoint key/);
  });

  test('a disk write error rejects the events in flight and every later one; the torn tail is then found', async () => {
    const t = testLog();
    const node = process.execPath;
    const script = join(import.meta.dirname, 'support', 'write-until-full.ts');
    // RLIMIT_FSIZE 64 KiB: the kernel refuses to grow the segment beyond it
    const out = execFileSync(
      'bash',
      ['-c', 'ulimit -f 64 && exec "$0" "$@"', node, script, t.dir, t.config.signing_key, HASH_KEY],
      { encoding: 'utf8' },
    );
    const result = JSON.parse(out);
    expect(result.error).toMatchObject({ name: 'AuditUnavailableError' });
    expect(result.error.message).toMatch(/EFBIG/);
    expect(result.after).toBe('AuditUnavailableError');
    expect(result.status).toMatchObject({ healthy: false });
    expect(result.acknowledged).toBeGreaterThan(0);
    expect(result.logged).toBeGreaterThan(0);

    // every acknowledged event is in the file
    const segment = readFileSync(join(t.dir, 'segment-000000000000.jsonl'));
    const complete = segment.toString('utf8').split('\n').slice(0, -1);
    expect(complete.length).toBeGreaterThanOrEqual(result.acknowledged);

    // the partial batch is a torn tail: reported by verify, and the writer refuses to start on it
    const verify = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(verify.code).toBe(1);
    expect(verify.json.first_bad).toMatchObject({
      kind: 'torn',
      position: { file: 'segment-000000000000.jsonl', line: complete.length + 1 },
    });
    await expect(t.open()).rejects.toThrow(/torn tail at entry \d+ \(segment-000000000000.jsonl line \d+, byte \d+\)/);
  });
});

describe('torn tail at start-up', () => {
  async function tornLog() {
    const t = testLog();
    const log = await t.open();
    for (const e of loginEvents(1)) await log.record(e);
    await log.close();
    const segment = join(t.dir, 'segment-000000000000.jsonl');
    const size = readFileSync(segment).length;
    appendFileSync(segment, '{"leaf":"abc');
    return { t, segment, size };
  }

  test('refused by default, naming the position', async () => {
    const { t, size } = await tornLog();
    await expect(t.open()).rejects.toThrow(`torn tail at entry 7 (segment-000000000000.jsonl line 8, byte ${size})`);
  });

  test('`audit repair` moves the torn bytes aside and records that; the log then verifies', async () => {
    const { t, segment, size } = await tornLog();
    const configFile = join(t.root, 'gateway.yaml');
    writeFileSync(
      configFile,
      `audit:\n  dir: ${t.dir}\n  signing_key: ${t.config.signing_key}\n  subject_hash_key: ${HASH_KEY}\n`,
    );
    const { code, stdout } = await cli('repair', '--config', configFile);
    expect(code).toBe(0);
    expect(stdout).toContain(`moved 12 torn bytes of segment-000000000000.jsonl (line 8, byte ${size})`);
    expect(readFileSync(join(t.dir, 'torn', `segment-000000000000.jsonl.${size}.torn`), 'utf8')).toBe('{"leaf":"abc');
    // the cut is exactly at the torn bytes: the next line is the repair event
    expect(
      readFileSync(segment)
        .subarray(size, size + 9)
        .toString(),
    ).toBe('{"leaf":"');
    const last = entries(t.dir).at(-1)!;
    expect(last).toMatchObject({
      type: 'audit_log_repaired',
      code: 'S120',
      detail: {
        file: 'segment-000000000000.jsonl',
        offset: size,
        length: 12,
        moved_to: `torn/segment-000000000000.jsonl.${size}.torn`,
      },
    });
    const verify = await cli('verify', '--config', configFile);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('(pinned)');
    expect((await cli('repair', '--config', configFile)).stdout).toContain('nothing to repair');
  });

  test('torn_tail: repair starts the writer after moving the tail aside', async () => {
    const { t } = await tornLog();
    const log = await t.open({ tornTail: 'repair' });
    await log.record({ type: 'logout' });
    await log.close();
    expect(
      entries(t.dir)
        .slice(-2)
        .map((e) => e.type),
    ).toEqual(['audit_log_repaired', 'logout']);
    expect(existsSync(join(t.dir, 'torn'))).toBe(true);
    expect((await scanLog(t.dir)).problems).toEqual([]);
  });

  test('a repair never hides an edited entry', async () => {
    const { t, segment } = await tornLog();
    const buf = readFileSync(segment);
    buf[100] = buf[100]! ^ 1;
    writeFileSync(segment, buf);
    await expect(t.open({ tornTail: 'repair' })).rejects.toThrow(/fails verification: entry 0/);
  });
});

describe('configuration', () => {
  test('defaults, and clear errors', () => {
    expect(auditConfigSchema.parse({ subject_hash_key: HASH_KEY })).toMatchObject({
      dir: 'var/audit',
      checkpoint_every: 1000,
      torn_tail: 'refuse',
      signing_alg: 'EdDSA',
    });
    const inside = auditConfigSchema.safeParse({ dir: 'var/audit', signing_key: 'var/audit/key.pem' });
    expect(inside.success).toBe(false);
    expect(inside.error!.issues[0]).toMatchObject({
      path: ['signing_key'],
      message: expect.stringMatching(/must not be inside the audit directory/),
    });
    const short = auditConfigSchema.safeParse({ subject_hash_key: 'short' });
    expect(short.error!.issues[0]!.message).toMatch(/at least 32/);
    expect(auditConfigSchema.safeParse({ unknown: 1 }).success).toBe(false);
  });

  test('an ES256 checkpoint key works as well as Ed25519', async () => {
    const t = testLog({ signing_alg: 'ES256' });
    const log = await t.open();
    await log.record({ type: 'logout' });
    await log.close();
    expect(readFileSync(t.config.signing_key, 'utf8')).toContain('PRIVATE KEY');
    const { code, json } = await cli('verify', t.dir, '--public-key', t.publicKey, '--json');
    expect(code).toBe(0);
    expect(Buffer.from(json.latest.sig.split('.')[0], 'base64url').toString()).toContain('"alg":"ES256"');
  });

  test('a generated subject hash key is kept next to the signing key and reused', async () => {
    const t = testLog();
    const cfg = auditConfigSchema.parse({ dir: t.dir, signing_key: t.config.signing_key });
    const { openAuditLog } = await import('../../src/audit/config.ts');
    let log = await openAuditLog(cfg, t.logger);
    await log.record({ type: 'verification', person: { subject: SUBJECT } });
    await log.close();
    const key = readFileSync(join(t.root, 'keys', 'subject-hash.key'), 'utf8').trim();
    log = await openAuditLog(cfg, t.logger);
    await log.record({ type: 'verification', person: { subject: SUBJECT } });
    await log.close();
    expect(entries(t.dir).map((e) => e.sub)).toEqual([hashSubject(key, SUBJECT), hashSubject(key, SUBJECT)]);
  });
});

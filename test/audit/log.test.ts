// The file-backed writer: group commit, checkpoints, restart, segments, and its configuration. Privacy:
// ./log-privacy.test.ts; failing closed and a torn tail: ./log-failing-closed.test.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { auditConfigSchema } from '../../src/audit/config.ts';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { CHECKPOINTS_FILE } from '../../src/audit/format.ts';
import { hashSubject } from '../../src/audit/privacy.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { cli, HASH_KEY, loginEvents, SUBJECT, testLog, type TestLog, entries } from './helpers.ts';

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

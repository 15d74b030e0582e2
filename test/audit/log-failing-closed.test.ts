// The file-backed writer failing closed: an unusable directory, another checkpoint key, a disk write error;
// and a torn tail at start-up, refused by default, moved aside by `audit repair` or torn_tail: repair.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditConfigSchema } from '../../src/audit/config.ts';
import { AuditUnavailableError } from '../../src/audit/events.ts';
import { scanLog } from '../../src/audit/scan.ts';
import { cli, HASH_KEY, loginEvents, testLog, entries } from './helpers.ts';

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

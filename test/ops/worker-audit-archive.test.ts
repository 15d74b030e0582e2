// `start --workers N` with audit.archive_dir: each worker retires its own log's segments, which bear the same
// names in every log (segment-000000000000.jsonl, ...). Moved into one shared directory, a later worker's
// segment would replace an earlier worker's archived one; so each worker archives into its own subdirectory,
// as its log lives in its own subdirectory of audit.dir.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { type AuditConfig, auditConfigSchema, openAuditLog } from '../../src/audit/config.ts';
import { memoryLogger } from '../../src/logger.ts';
import { workerAuditConfig } from '../../src/ops/worker-audit.ts';
import { loginEvents, testLog } from '../audit/helpers.ts';
import { setClock } from '../support/clock.ts';

const DAY_MS = 86_400_000;
const segments = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('segment-'));

/** Worker `n`'s log: logins of 40 days ago in several segments, then one of today; the segments of 40 days ago
 * (all but the latest then), as they were written. */
async function workerLog(config: AuditConfig, n: number): Promise<Map<string, Buffer>> {
  setClock(Date.now() - 40 * DAY_MS);
  try {
    const log = await openAuditLog(config, memoryLogger());
    for (let k = 0; k < 6; k++) for (const e of loginEvents(100 * n + k)) await log.record(e);
    await log.close();
  } finally {
    jest.useRealTimers();
  }
  const names = segments(config.dir).slice(0, -1);
  const old = new Map(names.map((name) => [name, readFileSync(join(config.dir, name))]));
  const log = await openAuditLog(config, memoryLogger());
  for (const e of loginEvents(100 * n + 99)) await log.record(e);
  await log.close();
  return old;
}

test('two workers retire into archives of their own: every archived segment is the one its worker wrote', async () => {
  const t = testLog({ checkpoint_every: 5, segment_max_bytes: 4096 });
  try {
    const shared = auditConfigSchema.parse({ ...t.config, retention_days: 30, archive_dir: join(t.root, 'archive') });
    const workers = [1, 2].map((n) => workerAuditConfig(shared, n));
    const old = new Map<number, Map<string, Buffer>>();
    for (const [k, config] of workers.entries()) old.set(k, await workerLog(config, k + 1));
    for (const config of workers) {
      const log = await openAuditLog(config, memoryLogger());
      await log.retention!.started;
      await log.retention!.settled();
      await log.close();
    }
    for (const [k, config] of workers.entries()) {
      const archived = old.get(k)!;
      expect(archived.size).toBeGreaterThan(0);
      expect(segments(config.archive_dir!).sort()).toEqual([...archived.keys()].sort());
      for (const [name, bytes] of archived)
        expect(readFileSync(join(config.archive_dir!, name)).equals(bytes)).toBe(true);
    }
  } finally {
    rmSync(t.root, { recursive: true, force: true });
  }
});

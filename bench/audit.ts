// Audit log benchmark: durable appends per second (group commit, O_DSYNC writes, concurrent producers) and
// the time `audit verify` needs for one million entries, and a start on that log. Run: node bench/audit.ts [--entries N]
// Prints a small table; the log lives in a temporary directory on the same disk as the OS temp dir
// (set TMPDIR to measure another disk).
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { benchOptions } from './args.ts';
import { auditConfigSchema, entryMacKey, openAuditLog } from '../src/audit/config.ts';
import { EntryMac } from '../src/audit/entry-mac.ts';
import type { AuditEvent } from '../src/audit/events.ts';
import { loadCheckpointPublicKey } from '../src/audit/keys.ts';
import { scanLog } from '../src/audit/scan.ts';
import { createLogger } from '../src/logger.ts';

const { values } = benchOptions(
  { entries: { type: 'string', default: '1000000' }, seconds: { type: 'string', default: '3' } },
  'usage: node bench/audit.ts [--entries 1000000] [--seconds 3]\n' +
    '  durable appends per second by concurrent producers (--seconds per row), then one log of --entries\n' +
    '  entries written and verified; the log lives under TMPDIR\n',
);
const VERIFY_ENTRIES = Number(values.entries);
const SECONDS = Number(values.seconds);
const logger = createLogger('warn');
const root = mkdtempSync(join(tmpdir(), 'vpm-audit-bench-'));

function config(name: string) {
  return auditConfigSchema.parse({
    dir: join(root, name),
    signing_key: join(root, 'keys', 'checkpoint.pem'),
    subject_hash_key: 'bench-subject-hash-key-0123456789-0123456789',
    // the logs share one checkpoint key: each needs a witness of its own
    witness: { path: join(root, `${name}-witness.json`) },
  });
}

// a typical login event: correlation id, client, provider, hashed subject and a digest
const event = (i: number): AuditEvent => ({
  type: 'verification',
  correlationId: `c-${i.toString(36).padStart(10, '0')}`,
  clientId: 'agency-service',
  providerId: 'bank-a',
  person: { subject: 'PNOLV-010180-15097' },
  detail: {
    outcome: 'verified',
    loa: 'high',
    amr: ['smart_id'],
    digest: 'sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU',
  },
});

async function appends(
  producers: number,
): Promise<{ producers: number; perSecond: number; batch: number; p99ms: number }> {
  const log = await openAuditLog(config(`appends-${producers}`), logger);
  const end = performance.now() + SECONDS * 1000;
  let n = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: producers }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await log.record(event(n++));
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - (end - SECONDS * 1000)) / 1000;
  const { entries, writes } = log.status();
  await log.close();
  latencies.sort((a, b) => a - b);
  return {
    producers,
    perSecond: Math.round(entries / elapsed),
    batch: Math.round(entries / writes),
    p99ms: Number(latencies[Math.floor(latencies.length * 0.99)]!.toFixed(1)),
  };
}

async function fill(entries: number): Promise<{ seconds: number; bytes: number }> {
  const cfg = config('verify');
  const log = await openAuditLog(cfg, logger);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 2048 }, async () => {
      while (next < entries) await log.record(event(next++));
    }),
  );
  await log.close();
  const bytes = readdirSync(cfg.dir).reduce((sum, f) => sum + statSync(join(cfg.dir, f)).size, 0);
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

console.log(
  `audit log benchmark on ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, log in ${root}`,
);
console.log('\ndurable appends (record() resolves once its O_DSYNC write returns), %d s per row', SECONDS);
console.log('| producers | appends/s | entries per write | p99 latency ms |');
console.log('|---:|---:|---:|---:|');
for (const producers of [1, 16, 64, 256, 1024, 4096]) {
  const r = await appends(producers);
  console.log(`| ${r.producers} | ${r.perSecond.toLocaleString('en')} | ${r.batch} | ${r.p99ms} |`);
}

const filled = await fill(VERIFY_ENTRIES);
const key = await loadCheckpointPublicKey(config('verify').signing_key);
const t0 = performance.now();
const scan = await scanLog(config('verify').dir, {
  key,
  signatures: 'all',
  mac: new EntryMac(entryMacKey(config('verify'))),
});
const verifySeconds = (performance.now() - t0) / 1000;
if (scan.problems.length || scan.entries !== VERIFY_ENTRIES)
  throw new Error(`verification failed: ${JSON.stringify(scan.problems[0])}`);
console.log(`\nverify (every entry, the tree, every checkpoint signature, the times)`);
console.log('| entries | checkpoints | log size MB | written in s | verified in s | entries/s |');
console.log('|---:|---:|---:|---:|---:|---:|');
console.log(
  `| ${VERIFY_ENTRIES.toLocaleString('en')} | ${scan.checkpoints.length} | ${(filled.bytes / 1e6).toFixed(0)} | ${filled.seconds.toFixed(1)} | ${verifySeconds.toFixed(2)} | ${Math.round(VERIFY_ENTRIES / verifySeconds).toLocaleString('en')} |`,
);

// what a gateway's start reads of the same log: the latest segment from the signed frontier that begins it, the
// older segments verified after the start in a worker thread while it serves
const s0 = performance.now();
const reopened = await openAuditLog(config('verify'), logger);
const startSeconds = (performance.now() - s0) / 1000;
await reopened.background?.done;
const olderSeconds = (performance.now() - s0) / 1000;
if (!reopened.status().healthy) throw new Error(`older segments failed: ${reopened.status().error}`);
const segments = readdirSync(config('verify').dir).filter((f) => f.startsWith('segment-')).length;
await reopened.close();
console.log(`\nstart on that log (${segments} segments of audit.segment_max_bytes, default 64 MiB)`);
console.log('| open (start) s | older segments verified after the start, s from the open |');
console.log('|---:|---:|');
console.log(
  `| ${startSeconds.toFixed(2)} | ${reopened.background ? olderSeconds.toFixed(2) : '- (one segment: read at start)'} |`,
);
rmSync(root, { recursive: true, force: true });

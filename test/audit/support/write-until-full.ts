// Child process for the fail-closed test: runs under `ulimit -f` so the kernel refuses to grow the
// segment file (EFBIG), a real disk write error. Records events until one is refused and reports.
import { auditConfigSchema, openAuditLog } from '../../../src/audit/config.ts';
import { memoryLogger } from '../../../src/logger.ts';

process.on('SIGXFSZ', () => {}); // get EFBIG from write() instead of being killed
const [dir, signingKey, hashKey] = process.argv.slice(2) as [string, string, string];
const config = auditConfigSchema.parse({
  dir,
  signing_key: signingKey,
  subject_hash_key: hashKey,
  checkpoint_every: 1_000_000,
});
const logger = memoryLogger();
const log = await openAuditLog(config, logger);
let acknowledged = 0;
let error: { name: string; message: string } | undefined;
for (let i = 0; i < 10_000 && !error; i++) {
  try {
    // 50 concurrent events per round, so a failed write holds a whole batch
    await Promise.all(
      Array.from({ length: 50 }, (_, k) =>
        log
          .record({
            type: 'provider_chosen',
            correlationId: `c-${i}-${k}`,
            clientId: 'rp',
            providerId: 'mock-eid',
            detail: { pad: 'x'.repeat(200) },
          })
          .then(() => acknowledged++),
      ),
    );
  } catch (err) {
    error = { name: (err as Error).name, message: (err as Error).message };
  }
}
let after: string | undefined;
await log.record({ type: 'provider_chosen' }).catch((err: Error) => (after = err.name));
process.stdout.write(
  JSON.stringify({
    acknowledged,
    error,
    after,
    status: log.status(),
    logged: logger.lines.filter((l) => l.includes('"error"')).length,
  }),
);
await log.close();

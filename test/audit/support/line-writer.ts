// Child process for the second-writer test: opens the audit log in DIR, then follows its standard input,
// one command a line: `write LABEL` records an event with correlation id LABEL, `close` closes the log.
// Each outcome is one JSON line on standard output.
import { createInterface } from 'node:readline';
import { auditConfigSchema, openAuditLog } from '../../../src/audit/config.ts';
import { memoryLogger } from '../../../src/logger.ts';

const [dir, signingKey, hashKey] = process.argv.slice(2) as [string, string, string];
const say = (outcome: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(outcome)}\n`);
const config = auditConfigSchema.parse({ dir, signing_key: signingKey, subject_hash_key: hashKey, min_free_bytes: 0 });
const logger = memoryLogger();
const log = await openAuditLog(config, logger).catch((err: Error) => {
  say({ opened: false, error: err.message });
  process.exit(1);
});
say({ opened: true, pid: process.pid, tookOver: logger.lines.some((l) => l.includes('taken over')) });
for await (const line of createInterface({ input: process.stdin })) {
  const [command, label] = line.split(' ');
  if (command === 'close') break;
  await log.record({ type: 'provider_chosen', correlationId: label }).then(
    () => say({ wrote: label }),
    (err: Error) => say({ refused: label, error: err.message }),
  );
}
await log.close();
say({ closed: true });

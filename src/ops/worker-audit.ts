// One writer per audit log (src/audit/lock.ts): each worker of `start --workers N` writes its own log in
// a subdirectory of `audit.dir` (`worker-<n>`), under its own name (`<audit.name>-worker-<n>`, or
// `worker-<n>`), so each has its own witness file and store witness. `audit verify --config` given the
// parent directory sees every worker's log. A restarted worker gets its number, and so its log, back. Its retired
// segments go to `<audit.archive_dir>/worker-<n>`: every log names its segments alike, so in one shared
// archive a worker's would replace another's.
import { basename, dirname, extname, join } from 'node:path';
import type { AuditConfig } from '../audit/config.ts';

export function workerAuditConfig(audit: AuditConfig, worker: number): AuditConfig {
  const suffix = `worker-${worker}`;
  const witness = audit.witness.path;
  return {
    ...audit,
    dir: join(audit.dir, suffix),
    name: audit.name ? `${audit.name}-${suffix}` : suffix,
    ...(audit.archive_dir ? { archive_dir: join(audit.archive_dir, suffix) } : {}),
    witness: {
      ...audit.witness,
      // a configured witness file is per log too: `witness.json` -> `witness.worker-1.json`
      ...(witness
        ? { path: join(dirname(witness), `${basename(witness, extname(witness))}.${suffix}${extname(witness)}`) }
        : {}),
    },
  };
}

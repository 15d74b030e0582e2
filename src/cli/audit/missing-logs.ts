// Logs that the witnesses say exist but the directory no longer holds. `start --workers N` writes one log per
// worker under `audit.dir/worker-<n>`, each with its own witness file (src/ops/worker-audit.ts); a reading
// command finds the logs by their files, so a worker's log deleted whole (or all of them) would simply not
// be in the set. With --config, every worker witness next to the configured one names a log that must be
// there.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type AuditConfig, witnessPath } from '../../audit/config.ts';
import type { LogRef } from './log-set.ts';
import { workerAuditConfig } from '../../ops/worker-audit.ts';

export interface MissingLog {
  /** the directory the log should be in */
  dir: string;
  name: string;
  /** the witness file that names it, and what it holds */
  witness: string;
  holds: string;
}

/** Worker witness files beside the configured witness file, by worker number: a file naming a worker
 * number counts when it is the very file workerAuditConfig gives that worker's witness. */
function workerWitnesses(config: AuditConfig): Map<number, string> {
  const folder = dirname(witnessPath(config));
  const found = new Map<number, string>();
  let files: string[] = [];
  try {
    files = readdirSync(folder);
  } catch {
    return found;
  }
  for (const file of files) {
    const n = Number(/worker-([1-9]\d{0,2})\b/.exec(file)?.[1]);
    if (!n) continue;
    const witness = witnessPath(workerAuditConfig(config, n));
    if (resolve(witness) === resolve(folder, file)) found.set(n, witness);
  }
  return found;
}

function summary(witness: string): string {
  try {
    const cp = JSON.parse(readFileSync(witness, 'utf8')) as { n?: unknown; size?: unknown };
    return `checkpoint ${String(cp.n)} (size ${String(cp.size)})`;
  } catch {
    return 'a checkpoint';
  }
}

/** The workers' logs of --config that the set lacks, when the set is read from audit.dir (the default). */
export function missingWorkerLogs(config: AuditConfig | undefined, logs: LogRef[], operands: string[]): MissingLog[] {
  if (!config) return [];
  const parent = resolve(config.dir);
  if (operands.length && !operands.some((dir) => resolve(dir) === parent)) return [];
  const present = new Set(logs.map((log) => resolve(log.dir)));
  return [...workerWitnesses(config)]
    .sort(([a], [b]) => a - b)
    .filter(([n]) => !present.has(join(parent, `worker-${n}`)))
    .map(([n, witness]) => ({
      dir: join(config.dir, `worker-${n}`),
      name: `worker-${n}`,
      witness,
      holds: summary(witness),
    }));
}
